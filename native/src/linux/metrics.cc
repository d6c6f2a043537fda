// sampleMetrics on Linux: cumulative counters from /proc and /sys, read with plain open/read
// (no iostreams) so a sample costs microseconds. Required: /proc/stat, /proc/meminfo.
// Optional, where present and readable: PSI, thermal zones, RAPL powercap zones.
#ifdef __linux__

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../boundary.h"
#include "../platform.h"

namespace forge {
namespace {

// Reads a whole (small, virtual) file. Returns 0 or the errno.
int ReadText(const std::string& path, std::string& out) {
  out.clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      int err = errno;
      close(fd);
      return err;
    }
  }
  close(fd);
  return 0;
}

std::string ReadRequired(const std::string& path) {
  std::string text;
  if (int err = ReadText(path, text)) ThrowSyscall("open", "reading " + path, err);
  return text;
}

// A trimmed one-line sysfs value, or "" with a note when unreadable.
bool ReadOptional(const std::string& path, std::string& out, Sample& s) {
  if (int err = ReadText(path, out)) {
    s.notes.push_back(path + ": " + ErrnoName(err));
    return false;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return true;
}

bool ParseNumber(const std::string& text, double& out) {
  const char* p = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(p, &end);
  if (end == p || errno == ERANGE) return false;
  out = v;
  return true;
}

// "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already
// inside user/nice, so it is not added again. Idle is idle + iowait.
CpuTicks ParseCpuLine(const char* p) {
  double f[8] = {0};
  char* end = nullptr;
  for (int i = 0; i < 8; i++) {
    unsigned long long v = std::strtoull(p, &end, 10);
    if (end == p) break;
    f[i] = static_cast<double>(v);
    p = end;
  }
  CpuTicks t;
  t.idle = f[3] + f[4];
  t.busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  return t;
}

void ReadProcStat(const std::string& root, Sample& s) {
  const std::string path = root + "/proc/stat";
  std::string text = ReadRequired(path);
  bool sawTotal = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const char* line = text.c_str() + pos;
    if (std::strncmp(line, "cpu", 3) == 0) {
      if (line[3] == ' ') {
        s.cpuTotal = ParseCpuLine(line + 4);
        sawTotal = true;
      } else if (line[3] >= '0' && line[3] <= '9') {
        const char* p = line + 3;
        while (*p >= '0' && *p <= '9') p++;
        s.cores.push_back(ParseCpuLine(p));
      }
    }
    pos = eol + 1;
  }
  if (!sawTotal) ThrowSyscall("read", path + " has no aggregate 'cpu' line", EINVAL);
}

void ReadMeminfo(const std::string& root, Sample& s) {
  const std::string path = root + "/proc/meminfo";
  std::string text = ReadRequired(path);
  double total = -1, available = -1, free = 0, buffers = 0, cached = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const char* line = text.c_str() + pos;
    const char* colon = std::strchr(line, ':');
    if (colon != nullptr && static_cast<size_t>(colon - text.c_str()) < eol) {
      double kb = std::strtod(colon + 1, nullptr) * 1024.0;
      std::string key(line, colon);
      if (key == "MemTotal") total = kb;
      else if (key == "MemAvailable") available = kb;
      else if (key == "MemFree") free = kb;
      else if (key == "Buffers") buffers = kb;
      else if (key == "Cached") cached = kb;
    }
    pos = eol + 1;
  }
  if (total < 0) ThrowSyscall("read", path + " has no MemTotal line", EINVAL);
  if (available < 0) available = free + buffers + cached;  // kernels before 3.14
  s.memory.totalBytes = total;
  s.memory.availableBytes = available;
  s.memory.usedBytes = std::max(0.0, total - available);
}

// "some avg10=0.12 avg60=0.05 avg300=0.01 total=12345" / "full ...": total is cumulative stall µs.
void ReadPressure(const std::string& root, Sample& s) {
  std::string text;
  if (ReadText(root + "/proc/pressure/memory", text) != 0) return;  // no PSI: absent, not an error
  bool some = false, full = false;
  for (const char* kind : {"some", "full"}) {
    const char* line = std::strstr(text.c_str(), kind);
    if (line == nullptr) continue;
    const char* avg10 = std::strstr(line, "avg10=");
    const char* tot = std::strstr(line, "total=");
    if (avg10 == nullptr || tot == nullptr) continue;
    double a = std::strtod(avg10 + 6, nullptr);
    double t = std::strtod(tot + 6, nullptr);
    if (kind[0] == 's') {
      s.memory.someAvg10 = a;
      s.memory.someTotalUs = t;
      some = true;
    } else {
      s.memory.fullAvg10 = a;
      s.memory.fullTotalUs = t;
      full = true;
    }
  }
  s.memory.hasPressure = some && full;
}

// Directory entries starting with `prefix`, in natural order (zone2 before zone10).
std::vector<std::string> ListDir(const std::string& dir, const char* prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  size_t plen = std::strlen(prefix);
  while (dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, prefix, plen) == 0) names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return names;
}

void ReadThermal(const std::string& root, Sample& s) {
  const std::string dir = root + "/sys/class/thermal";
  for (const std::string& zone : ListDir(dir, "thermal_zone")) {
    std::string text;
    double milli = 0;
    // Some zones return ENODATA/EIO while their sensor is off; they are skipped with a note.
    if (!ReadOptional(dir + "/" + zone + "/temp", text, s) || !ParseNumber(text, milli)) continue;
    Temperature t;
    t.zone = zone;
    if (!ReadOptional(dir + "/" + zone + "/type", t.type, s)) t.type = "";
    t.celsius = milli / 1000.0;
    s.temperatures.push_back(std::move(t));
  }
}

// RAPL zone names → rails. "package-N" is the whole CPU package (cores, uncore, iGPU);
// "core" sits inside it (same rail, so the reading skips it); "uncore" is mostly the iGPU;
// "psys" is the whole platform.
const char* RailForRaplZone(const std::string& name) {
  if (name.rfind("package", 0) == 0) return "cpu";
  if (name == "core") return "cpu";
  if (name == "uncore") return "gpu";
  if (name == "dram") return "dram";
  if (name == "psys") return "system";
  return nullptr;
}

void ReadPowercap(const std::string& root, Sample& s) {
  const std::string dir = root + "/sys/class/powercap";
  // "intel-rapl:N[:M]" (also used by the AMD RAPL driver); "intel-rapl-mmio:N" mirrors package
  // zones through MMIO and would double-count, so the prefix includes the colon.
  for (const std::string& zone : ListDir(dir, "intel-rapl:")) {
    std::string name, text;
    if (!ReadOptional(dir + "/" + zone + "/name", name, s)) continue;
    const char* rail = RailForRaplZone(name);
    if (rail == nullptr) continue;
    EnergyCounter c;
    if (!ReadOptional(dir + "/" + zone + "/energy_uj", text, s) || !ParseNumber(text, c.value)) continue;
    if (ReadOptional(dir + "/" + zone + "/max_energy_range_uj", text, s)) ParseNumber(text, c.max);
    c.rail = rail;
    c.name = name;
    c.zone = zone;
    size_t first = zone.find(':');
    size_t last = zone.rfind(':');
    c.parent = last != first ? zone.substr(0, last) : "";
    c.unit = "uJ";
    s.energy.push_back(std::move(c));
  }
}

}  // namespace

Sample ReadSample(const std::string& rootArg) {
  std::string root = rootArg;
  while (!root.empty() && root.back() == '/') root.pop_back();  // "/" → "", "/tmp/x/" → "/tmp/x"
  Sample s;
  s.platform = "linux";
  s.monotonicMs = MonotonicMs();
  s.ticksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  ReadProcStat(root, s);
  ReadMeminfo(root, s);
  ReadPressure(root, s);
  ReadThermal(root, s);
  ReadPowercap(root, s);
  return s;
}

}  // namespace forge

#endif
