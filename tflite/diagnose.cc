#include "tflite/diagnose.h"

#include <cstring>

namespace unas::tflite_internal {
namespace {

enum class Kind { kScalarVector, kString, kTable, kTableVector };

struct TableDesc;
struct FieldDesc {
  int slot;           // field index in the table (vtable entry)
  const char* name;
  Kind kind;
  int elem_bytes;     // kScalarVector: bytes per element
  const TableDesc* sub;  // kTable, kTableVector
};
struct TableDesc {
  const FieldDesc* fields;
  int count;
};

// The fields of the tables unas reads, by slot (tflite_subset.fbs).
constexpr FieldDesc kQuantFields[] = {
    {2, "scale", Kind::kScalarVector, 4, nullptr},
    {3, "zero_point", Kind::kScalarVector, 8, nullptr},
};
constexpr TableDesc kQuant = {kQuantFields, 2};
constexpr FieldDesc kTensorFields[] = {
    {0, "shape", Kind::kScalarVector, 4, nullptr},
    {3, "name", Kind::kString, 1, nullptr},
    {4, "quantization", Kind::kTable, 0, &kQuant},
};
constexpr TableDesc kTensor = {kTensorFields, 3};
constexpr FieldDesc kOperatorFields[] = {
    {1, "inputs", Kind::kScalarVector, 4, nullptr},
    {2, "outputs", Kind::kScalarVector, 4, nullptr},
    {5, "custom_options", Kind::kScalarVector, 1, nullptr},
};
constexpr TableDesc kOperator = {kOperatorFields, 3};
constexpr FieldDesc kSubGraphFields[] = {
    {0, "tensors", Kind::kTableVector, 0, &kTensor},
    {1, "inputs", Kind::kScalarVector, 4, nullptr},
    {2, "outputs", Kind::kScalarVector, 4, nullptr},
    {3, "operators", Kind::kTableVector, 0, &kOperator},
    {4, "name", Kind::kString, 1, nullptr},
};
constexpr TableDesc kSubGraph = {kSubGraphFields, 5};
constexpr FieldDesc kOpCodeFields[] = {
    {1, "custom_code", Kind::kString, 1, nullptr},
};
constexpr TableDesc kOpCode = {kOpCodeFields, 1};
constexpr FieldDesc kBufferFields[] = {
    {0, "data", Kind::kScalarVector, 1, nullptr},
};
constexpr TableDesc kBuffer = {kBufferFields, 1};
constexpr FieldDesc kMetadataFields[] = {
    {0, "name", Kind::kString, 1, nullptr},
};
constexpr TableDesc kMetadata = {kMetadataFields, 1};
constexpr FieldDesc kModelFields[] = {
    {1, "operator_codes", Kind::kTableVector, 0, &kOpCode},
    {2, "subgraphs", Kind::kTableVector, 0, &kSubGraph},
    {3, "description", Kind::kString, 1, nullptr},
    {4, "buffers", Kind::kTableVector, 0, &kBuffer},
    {5, "metadata_buffer", Kind::kScalarVector, 4, nullptr},
    {6, "metadata", Kind::kTableVector, 0, &kMetadata},
};
constexpr TableDesc kModel = {kModelFields, 6};

class Walker {
 public:
  Walker(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  std::string Root() {
    uint32_t root = 0;
    if (!U32(0, &root)) return "the file is too short to hold a root offset";
    if (uint64_t{root} + 4 > size_) {
      return "the root table offset " + std::to_string(root) + " points outside the " +
             std::to_string(size_) + "-byte file";
    }
    return Table(root, kModel, "model");
  }

 private:
  bool U32(uint64_t pos, uint32_t* v) const {
    if (pos + 4 > size_) return false;
    std::memcpy(v, data_ + pos, 4);
    return true;
  }
  bool U16(uint64_t pos, uint16_t* v) const {
    if (pos + 2 > size_) return false;
    std::memcpy(v, data_ + pos, 2);
    return true;
  }

  // The position of field `slot` of the table at `table`, 0 when absent; an
  // error message in *error when the vtable or field lies outside the file.
  uint64_t Field(uint64_t table, int slot, const std::string& where, std::string* error) const {
    uint32_t soffset_raw = 0;
    if (!U32(table, &soffset_raw)) {
      *error = where + ": the table at " + std::to_string(table) + " lies outside the file";
      return 0;
    }
    const int64_t vtable = static_cast<int64_t>(table) - static_cast<int32_t>(soffset_raw);
    uint16_t vsize = 0;
    uint16_t tsize = 0;
    if (vtable < 0 || !U16(static_cast<uint64_t>(vtable), &vsize) ||
        !U16(static_cast<uint64_t>(vtable) + 2, &tsize) ||
        static_cast<uint64_t>(vtable) + vsize > size_) {
      *error = where + ": its vtable (at " + std::to_string(vtable) + ") lies outside the " +
               std::to_string(size_) + "-byte file";
      return 0;
    }
    if (table + tsize > size_) {
      *error = where + ": the table declares " + std::to_string(tsize) + " bytes but only " +
               std::to_string(size_ - table) + " follow it";
      return 0;
    }
    const uint64_t entry = 4 + 2 * static_cast<uint64_t>(slot);
    if (entry + 2 > vsize) return 0;  // field absent
    uint16_t voffset = 0;
    U16(static_cast<uint64_t>(vtable) + entry, &voffset);
    if (voffset == 0) return 0;
    if (voffset + 4 > tsize) {
      *error = where + ": a field lies outside its table";
      return 0;
    }
    return table + voffset;
  }

  // Follows the uoffset at `pos`; returns the target or 0 with *error set.
  uint64_t Follow(uint64_t pos, const std::string& where, std::string* error) const {
    uint32_t off = 0;
    if (!U32(pos, &off) || pos + off + 4 > size_) {
      *error = where + ": its offset (" + std::to_string(off) + " from byte " + std::to_string(pos) +
               ") points outside the " + std::to_string(size_) + "-byte file";
      return 0;
    }
    return pos + off;
  }

  std::string Vector(uint64_t pos, int elem_bytes, const std::string& where, uint32_t* length) const {
    std::string error;
    const uint64_t vec = Follow(pos, where, &error);
    if (!error.empty()) return error;
    U32(vec, length);
    const uint64_t need = uint64_t{*length} * static_cast<uint64_t>(elem_bytes);
    if (vec + 4 + need > size_) {
      return where + " declares " + std::to_string(*length) + (elem_bytes == 1 ? " bytes" : " elements") +
             " (" + std::to_string(need) + " bytes) but only " + std::to_string(size_ - vec - 4) +
             " bytes follow it";
    }
    vec_pos_ = vec;
    return "";
  }

  std::string Table(uint64_t table, const TableDesc& desc, const std::string& where) {
    if (++tables_ > kMaxTables) return "";
    for (int i = 0; i < desc.count; ++i) {
      const FieldDesc& f = desc.fields[i];
      const std::string path = where + "." + f.name;
      std::string error;
      const uint64_t pos = Field(table, f.slot, where, &error);
      if (!error.empty()) return error;
      if (pos == 0) continue;
      uint32_t length = 0;
      switch (f.kind) {
        case Kind::kScalarVector:
          error = Vector(pos, f.elem_bytes, path, &length);
          break;
        case Kind::kString:
          error = Vector(pos, 1, path, &length);
          if (error.empty() && vec_pos_ + 4 + length + 1 > size_) error = path + ": no terminating zero";
          break;
        case Kind::kTable: {
          const uint64_t sub = Follow(pos, path, &error);
          if (error.empty()) error = Table(sub, *f.sub, path);
          break;
        }
        case Kind::kTableVector: {
          error = Vector(pos, 4, path, &length);
          if (!error.empty()) break;
          const uint64_t vec = vec_pos_;
          for (uint32_t k = 0; k < length && error.empty(); ++k) {
            const std::string item = path + "[" + std::to_string(k) + "]";
            const uint64_t sub = Follow(vec + 4 + 4 * uint64_t{k}, item, &error);
            if (error.empty()) error = Table(sub, *f.sub, item);
          }
          break;
        }
      }
      if (!error.empty()) return error;
    }
    return "";
  }

  static constexpr int kMaxTables = 200000;  // the walk stops quietly after this many
  const uint8_t* data_;
  size_t size_;
  mutable uint64_t vec_pos_ = 0;
  int tables_ = 0;
};

}  // namespace

std::string DiagnoseFlatbuffer(const uint8_t* data, size_t size) { return Walker(data, size).Root(); }

}  // namespace unas::tflite_internal
