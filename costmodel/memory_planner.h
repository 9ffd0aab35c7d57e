// Activation-memory planning for a graph of operators, in three parts:
//   buffer_graph.h   the graph model (tensors, operators, lifetimes),
//   order_search.h   peak of an order and the exact best order,
//   arena_layout.h   greedy placement of buffers in one arena.
// This header includes all three for callers that use the whole planner.
#pragma once

#include "costmodel/arena_layout.h"
#include "costmodel/buffer_graph.h"
#include "costmodel/order_search.h"
