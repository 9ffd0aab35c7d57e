#include "data/sensor_csv.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "base/json_limits.h"
#include "data/image_files.h"

namespace unas::data {
namespace {

struct CsvTable {
  std::string path;
  size_t value_columns = 0;
  std::vector<std::string> labels;  // one per row
  std::vector<float> values;        // rows x value_columns, row-major as in the file
  std::vector<int64_t> lines;       // each row's line number (1-based)
};

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    std::string_view f = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    fields.push_back(f);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

Result<CsvTable> ReadTable(const std::string& path) {
  UNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  CsvTable table;
  table.path = path;
  size_t label_column = 0, columns = 0;
  bool have_header = false;
  int64_t line_no = 0;
  std::string number;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::vector<std::string_view> fields = SplitFields(line);
    const std::string where = path + ":" + std::to_string(line_no);
    if (!have_header) {
      const auto it = std::find(fields.begin(), fields.end(), "label");
      if (it == fields.end()) {
        return Status::Invalid(where + ": the header has no column named 'label'");
      }
      if (std::count(fields.begin(), fields.end(), "label") > 1) {
        return Status::Invalid(where + ": the header has more than one 'label' column");
      }
      label_column = static_cast<size_t>(it - fields.begin());
      columns = fields.size();
      table.value_columns = columns - 1;
      if (table.value_columns == 0) return Status::Invalid(where + ": the header has no value column");
      have_header = true;
      continue;
    }
    if (fields.size() != columns) {
      return Status::Invalid(where + ": " + std::to_string(fields.size()) + " fields, the header has " +
                             std::to_string(columns));
    }
    for (size_t c = 0; c < columns; ++c) {
      if (c == label_column) {
        if (fields[c].empty()) return Status::Invalid(where + ": empty label");
        table.labels.emplace_back(fields[c]);
        continue;
      }
      number.assign(fields[c]);
      char* stop = nullptr;
      const float v = std::strtof(number.c_str(), &stop);
      if (number.empty() || *stop != '\0' || !std::isfinite(v)) {
        return Status::Invalid(where + ": column " + std::to_string(c + 1) + ": '" + QuotePrefix(number) +
                               "' is not a finite number");
      }
      table.values.push_back(v);
    }
    table.lines.push_back(line_no);
  }
  if (!have_header) return Status::Invalid(path + ": empty file (expected a header line with a 'label' column)");
  if (table.labels.empty()) return Status::Invalid(path + ": no data rows after the header");
  return table;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The file(s) behind a spec: {FILE} or {DIR/train.csv, DIR/test.csv}.
Result<std::vector<CsvTable>> ReadTables(const DatasetSpec& spec) {
  std::vector<CsvTable> tables;
  if (IsDirectory(spec.directory)) {
    UNAS_ASSIGN_OR_RETURN(CsvTable train, ReadTable(spec.directory + "/train.csv"));
    UNAS_ASSIGN_OR_RETURN(CsvTable test, ReadTable(spec.directory + "/test.csv"));
    if (test.value_columns != train.value_columns) {
      return Status::Invalid(test.path + ": " + std::to_string(test.value_columns) + " value columns, " + train.path +
                             " has " + std::to_string(train.value_columns));
    }
    tables.push_back(std::move(train));
    tables.push_back(std::move(test));
  } else {
    UNAS_ASSIGN_OR_RETURN(CsvTable all, ReadTable(spec.directory));
    tables.push_back(std::move(all));
  }
  return tables;
}

Result<InputShape> WindowShape(const DatasetSpec& spec, const CsvTable& table) {
  const auto columns = static_cast<int64_t>(table.value_columns);
  if (!spec.input_shape.set()) {
    if (columns > 65536) return Status::Invalid(table.path + ": " + std::to_string(columns) + " value columns; at most 65536");
    return InputShape{static_cast<int>(columns), 1, 1};
  }
  UNAS_RETURN_IF_ERROR(ValidateInputShape(spec.input_shape));
  const InputShape& s = spec.input_shape;
  if (s.width != 1) {
    return Status::Invalid("input_shape: sensor windows are [length, 1, channels]; width is " + std::to_string(s.width));
  }
  if (int64_t{s.height} * s.channels != columns) {
    return Status::Invalid("input_shape [" + std::to_string(s.height) + ", 1, " + std::to_string(s.channels) +
                           "] needs " + std::to_string(int64_t{s.height} * s.channels) + " value columns; " +
                           table.path + " has " + std::to_string(columns));
  }
  return s;
}

Result<std::vector<std::string>> ClassNames(const CsvTable& train) {
  std::vector<std::string> names = train.labels;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.size() < 2) {
    return Status::Invalid(train.path + ": " + std::to_string(names.size()) +
                           " class(es) in the label column; a classifier needs at least 2");
  }
  if (names.size() > 256) {
    return Status::Invalid(train.path + ": " + std::to_string(names.size()) + " classes; at most 256 are supported");
  }
  return names;
}

// The table's windows as channel-major float images of `shape`.
Result<RawImages> ToWindows(const CsvTable& table, const InputShape& shape, const std::vector<std::string>& classes) {
  RawImages raw;
  raw.count = static_cast<int64_t>(table.labels.size());
  raw.height = shape.height;
  raw.width = 1;
  raw.channels = shape.channels;
  const size_t per = table.value_columns;
  raw.values.resize(table.labels.size() * per);
  raw.labels.reserve(table.labels.size());
  for (size_t r = 0; r < table.labels.size(); ++r) {
    const auto it = std::lower_bound(classes.begin(), classes.end(), table.labels[r]);
    if (it == classes.end() || *it != table.labels[r]) {
      return Status::Invalid(table.path + ":" + std::to_string(table.lines[r]) + ": label '" +
                             QuotePrefix(table.labels[r]) + "' is not among the training labels");
    }
    raw.labels.push_back(static_cast<uint8_t>(it - classes.begin()));
    const float* row = table.values.data() + r * per;
    float* out = raw.values.data() + r * per;
    // File order t*C + c becomes channel-major c*L + t.
    for (int t = 0; t < shape.height; ++t) {
      for (int c = 0; c < shape.channels; ++c) out[c * shape.height + t] = row[t * shape.channels + c];
    }
  }
  return raw;
}

}  // namespace

Result<DatasetShape> DescribeSensorCsv(const DatasetSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(std::vector<CsvTable> tables, ReadTables(spec));
  UNAS_ASSIGN_OR_RETURN(InputShape shape, WindowShape(spec, tables[0]));
  UNAS_ASSIGN_OR_RETURN(std::vector<std::string> classes, ClassNames(tables[0]));
  const int num_classes = static_cast<int>(classes.size());
  return DatasetShape{shape.height, shape.width, shape.channels, num_classes, std::move(classes)};
}

Result<LoadedSets> ReadSensorCsv(const DatasetSpec& spec) {
  UNAS_ASSIGN_OR_RETURN(std::vector<CsvTable> tables, ReadTables(spec));
  UNAS_ASSIGN_OR_RETURN(InputShape shape, WindowShape(spec, tables[0]));
  LoadedSets sets;
  UNAS_ASSIGN_OR_RETURN(sets.class_names, ClassNames(tables[0]));
  UNAS_ASSIGN_OR_RETURN(RawImages train, ToWindows(tables[0], shape, sets.class_names));
  if (tables.size() == 2) {
    sets.train = std::move(train);
    UNAS_ASSIGN_OR_RETURN(sets.test, ToWindows(tables[1], shape, sets.class_names));
  } else {
    const SplitIndices split = StratifiedSplit(train.labels, static_cast<int>(sets.class_names.size()),
                                               kFolderTestFraction, kFolderTestSeed);
    sets.train = SelectImages(train, split.train);
    sets.test = SelectImages(train, split.validation);
  }
  if (sets.test.count == 0) return Status::Invalid(spec.directory + ": too few rows for a 20% test split");
  return sets;
}

}  // namespace unas::data
