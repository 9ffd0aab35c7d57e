// Sensor windows ("csv:FILE" or "csv:DIR", docs/data.md): fixed-length
// windows of a multi-channel signal, one window a row.
//
// Format: plain comma-separated text (no quoted fields), '\n' or "\r\n"
// line ends, blank lines ignored. The first line is a header; the column
// named "label" holds each row's class name; every other column is a value
// (a decimal number, in sensor units), in time-major order: for a window of
// length L with C channels the value columns are t0c0, t0c1, .., t0c(C-1),
// t1c0, ... The network sees H = L, W = 1, C channels; the shape is the
// job's input_shape [L, 1, C] (L x C must equal the number of value
// columns), or [columns, 1, 1] when it is not given.
//
// Classes: the distinct label values in sorted byte order (as image folders'
// names). Splits: "csv:DIR" with DIR/train.csv and DIR/test.csv (both the
// same header; a test label missing from train is an error), or "csv:FILE"
// with a stratified, seeded 20% test split (data/image_folder.h's).
//
// Errors (kInvalidArgument, naming file and line): no "label" column, a row
// with the wrong number of fields, a value that is not a finite number, an
// input_shape that does not match the columns, fewer than 2 classes or more
// than 256, a test label not in train. kNotFound for a missing file.
//
// Thread safety: pure functions apart from reading files.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "data/dataset_spec.h"
#include "data/image_folder.h"

namespace unas::data {

// The class names (label column, sorted byte order) and the shape, without
// converting the values: what DescribeDataset reports.
Result<DatasetShape> DescribeSensorCsv(const DatasetSpec& spec);

// The whole data set: parsed, split; RawImages::values in sensor units.
Result<LoadedSets> ReadSensorCsv(const DatasetSpec& spec);

}  // namespace unas::data
