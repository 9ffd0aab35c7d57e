// The one place where protobuf messages and the project's types meet: the
// coordinator's records (server/store/records.h), the worker protocol
// (worker/protocol.h) and the cost record (costmodel/costs.h). Both
// directions; a field added to a record is one name in its message's field
// list in proto_convert.cc (one line each way when the names differ).
//
// Proto3 has no "absent" for scalars: latency_ms 0 means no estimate, and a
// trial's metrics message is set only when the trial has metrics.
#pragma once

#include "proto/unas.pb.h"
#include "worker/protocol.h"
#include "server/store/records.h"

namespace unas::server {

void ToProto(const Costs& costs, v1::Costs* out);
Costs FromProto(const v1::Costs& costs);
void ToProto(const Metrics& metrics, v1::Metrics* out);
Metrics FromProto(const v1::Metrics& metrics);

void ToProto(const DatasetRecord& dataset, v1::Dataset* out);
DatasetRecord FromProto(const v1::Dataset& dataset);
// An upload's first message: the header (its `chunk` is the caller's).
void ToProto(const DatasetUploadHeader& header, v1::UploadDatasetRequest* out);
DatasetUploadHeader FromProto(const v1::UploadDatasetRequest& header);
void ToProto(const JobView& view, v1::Job* out);
JobView FromProto(const v1::Job& job);
void ToProto(const TrialRecord& trial, v1::Trial* out);
TrialRecord FromProto(const v1::Trial& trial);
void ToProto(const JobEvent& event, v1::JobEvent* out);
JobEvent FromProto(const v1::JobEvent& event);
void ToProto(const ParetoView& front, v1::ParetoFront* out);
ParetoView FromProto(const v1::ParetoFront& front);

// The worker protocol. A task whose enums this build does not know, or an
// assignment without a task, is kInvalidArgument naming the field.
void ToProto(const worker::TrialTask& task, v1::TrialTask* out);
Result<worker::TrialTask> FromProto(const v1::TrialTask& task);
void ToProto(const worker::WorkAssignment& assignment, v1::TrialAssignment* out);
Result<worker::WorkAssignment> FromProto(const v1::TrialAssignment& assignment);
// The result's fields of a CompleteTrialRequest (worker and lease ids are the caller's).
void ToProto(const worker::TrialResult& result, v1::CompleteTrialRequest* out);
worker::TrialResult FromProto(const v1::CompleteTrialRequest& request);

}  // namespace unas::server
