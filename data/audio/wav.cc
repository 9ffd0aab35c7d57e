#include "data/audio/wav.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace unas::data::audio {
namespace {

constexpr size_t kMaxWavBytes = size_t{1} << 31;

uint32_t Le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t Le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

void PutLe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}
void PutLe16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v));
  out.push_back(uint8_t(v >> 8));
}

// The first four bytes as text when printable, else in hex, for messages.
std::string Tag(const uint8_t* p, size_t n) {
  std::string s;
  bool printable = true;
  for (size_t i = 0; i < n; ++i) printable = printable && p[i] >= 0x20 && p[i] < 0x7f;
  if (printable) return "'" + std::string(reinterpret_cast<const char*>(p), n) + "'";
  static const char* kHex = "0123456789abcdef";
  s = "0x";
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

const char* FormatName(uint16_t tag) {
  switch (tag) {
    case 3: return " (IEEE float)";
    case 6: return " (A-law)";
    case 7: return " (mu-law)";
    case 2: return " (ADPCM)";
    case 0x11: return " (IMA ADPCM)";
    case 0x55: return " (MP3)";
    default: return "";
  }
}

// KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71.
constexpr uint8_t kPcmGuid[16] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                  0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

Status CheckFmt(const uint8_t* p, uint32_t size, const std::string& name, int32_t rate) {
  if (size < 16) return Status::Invalid(name + ": fmt chunk of " + std::to_string(size) + " bytes (needs 16)");
  const uint16_t tag = Le16(p), channels = Le16(p + 2), block_align = Le16(p + 12), bits = Le16(p + 14);
  const uint32_t sample_rate = Le32(p + 4), byte_rate = Le32(p + 8);
  if (tag == 0xFFFE) {
    if (size < 40) return Status::Invalid(name + ": WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes");
    if (std::memcmp(p + 24, kPcmGuid, 16) != 0) {
      return Status::Invalid(name + ": WAVE_FORMAT_EXTENSIBLE with a sub-format other than PCM");
    }
    if (Le16(p + 18) != bits) {
      return Status::Invalid(name + ": " + std::to_string(Le16(p + 18)) + " valid bits in " + std::to_string(bits) +
                             "-bit containers; only 16-bit PCM is read");
    }
  } else if (tag != 1) {
    return Status::Invalid(name + ": format tag " + std::to_string(tag) + FormatName(tag) +
                           " is not integer PCM; only 16-bit PCM is read");
  }
  if (channels != 1) {
    return Status::Invalid(name + ": " + std::to_string(channels) + " channels" +
                           (channels == 2 ? " (stereo)" : "") + "; only mono is read");
  }
  if (bits != 16) {
    return Status::Invalid(name + ": " + std::to_string(bits) + "-bit samples; only 16-bit PCM is read");
  }
  if (sample_rate != uint32_t(rate)) {
    return Status::Invalid(name + ": sample rate " + std::to_string(sample_rate) + " Hz; only " +
                           std::to_string(rate) + " Hz is read (resample it, e.g. sox IN -r " + std::to_string(rate) +
                           " OUT)");
  }
  if (block_align != 2 || byte_rate != 2 * sample_rate) {
    return Status::Invalid(name + ": block align " + std::to_string(block_align) + " and byte rate " +
                           std::to_string(byte_rate) + " do not describe mono 16-bit PCM");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<int16_t>> ParsePcmWav(const uint8_t* data, size_t size, const std::string& name,
                                         int32_t sample_rate_hz) {
  if (size < 12 || std::memcmp(data, "RIFF", 4) != 0) {
    return Status::Invalid(name + ": not a RIFF file (starts with " + Tag(data, size < 4 ? size : 4) + ")");
  }
  if (std::memcmp(data + 8, "WAVE", 4) != 0) {
    return Status::Invalid(name + ": a RIFF file of form " + Tag(data + 8, 4) + ", not WAVE");
  }
  const uint64_t riff_end = uint64_t{Le32(data + 4)} + 8;
  if (riff_end > size) {
    return Status::Invalid(name + ": truncated: the RIFF header announces " + std::to_string(riff_end) +
                           " bytes, the file has " + std::to_string(size));
  }
  bool have_fmt = false;
  size_t at = 12;
  while (at < riff_end) {
    if (riff_end - at < 8) return Status::Invalid(name + ": truncated chunk header at byte " + std::to_string(at));
    const uint8_t* chunk = data + at;
    const uint32_t chunk_size = Le32(chunk + 4);
    const uint64_t body = at + 8;
    if (body + chunk_size > riff_end) {
      return Status::Invalid(name + ": truncated: chunk " + Tag(chunk, 4) + " announces " +
                             std::to_string(chunk_size) + " bytes, only " + std::to_string(riff_end - body) +
                             " follow");
    }
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (have_fmt) return Status::Invalid(name + ": two fmt chunks");
      UNAS_RETURN_IF_ERROR(CheckFmt(data + body, chunk_size, name, sample_rate_hz));
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_fmt) return Status::Invalid(name + ": data chunk before the fmt chunk");
      if (chunk_size % 2 != 0) {
        return Status::Invalid(name + ": data chunk of " + std::to_string(chunk_size) +
                               " bytes, not a whole number of 16-bit samples");
      }
      std::vector<int16_t> samples(chunk_size / 2);
      for (size_t i = 0; i < samples.size(); ++i) samples[i] = int16_t(Le16(data + body + 2 * i));
      return samples;
    }
    at = body + chunk_size + (chunk_size & 1);  // chunks are padded to even sizes
  }
  return Status::Invalid(name + (have_fmt ? ": no data chunk" : ": no fmt chunk"));
}

Result<std::vector<int16_t>> ReadPcmWav(const std::string& path, int32_t sample_rate_hz) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound(path + ": cannot open");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) return Status::Invalid(path + ": cannot read");
  if (uint64_t(size) > kMaxWavBytes) return Status::Invalid(path + ": larger than 2 GiB");
  f.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), size)) {
    return Status::Invalid(path + ": read error");
  }
  return ParsePcmWav(bytes.data(), bytes.size(), path, sample_rate_hz);
}

Status WritePcmWav(const std::string& path, const int16_t* samples, size_t count, int32_t sample_rate_hz) {
  if (count > (kMaxWavBytes - 44) / 2) return Status::Invalid(path + ": too many samples for a WAV file");
  std::vector<uint8_t> out;
  out.reserve(44 + 2 * count);
  const uint32_t data_bytes = uint32_t(2 * count);
  out.insert(out.end(), {'R', 'I', 'F', 'F'});
  PutLe32(out, 36 + data_bytes);
  out.insert(out.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  PutLe32(out, 16);
  PutLe16(out, 1);
  PutLe16(out, 1);
  PutLe32(out, uint32_t(sample_rate_hz));
  PutLe32(out, 2 * uint32_t(sample_rate_hz));
  PutLe16(out, 2);
  PutLe16(out, 16);
  out.insert(out.end(), {'d', 'a', 't', 'a'});
  PutLe32(out, data_bytes);
  for (size_t i = 0; i < count; ++i) PutLe16(out, uint16_t(samples[i]));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
  f.close();
  if (!f) return Status::Invalid(path + ": cannot write");
  return Status::Ok();
}

std::vector<int16_t> FitClip(std::vector<int16_t> samples, size_t clip_samples) {
  samples.resize(clip_samples, 0);
  return samples;
}

}  // namespace unas::data::audio
