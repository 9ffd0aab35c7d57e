// The one place where protobuf messages and the coordinator's types meet.
#pragma once

#include "proto/unas.pb.h"
#include "server/coordinator.h"
#include "server/records.h"

namespace unas::server {

void ToProto(const JobView& view, v1::Job* out);
void ToProto(const TrialRecord& trial, v1::Trial* out);
void ToProto(const JobEvent& event, v1::JobEvent* out);
Metrics FromProto(const v1::Metrics& metrics);
void ToProto(const Costs& costs, v1::Costs* out);
Costs FromProto(const v1::Costs& costs);
void ToProto(const Metrics& metrics, v1::Metrics* out);

// The reverse direction, for clients that print what they received.
TrialRecord FromProto(const v1::Trial& trial);

}  // namespace unas::server
