// What each platform file provides. Platform code fills plain structs; addon.cc turns them into JS,
// so the JS shape is the same on every platform (typed in src/platform/native.ts).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace forge {

struct PeerCredentials {
  int64_t pid;
  uint32_t uid;
  uint32_t gid;
};

// Cumulative CPU time in ticks (`ticksPerSecond` of them a second).
struct CpuTicks {
  double busy = 0;
  double idle = 0;
};

// A cumulative energy counter. `value` and `max` are in `unit` ("uJ", "mJ", "nJ").
struct EnergyCounter {
  std::string rail;    // "cpu" | "gpu" | "ane" | "dram" | "system"
  std::string name;    // the source's own name: RAPL zone name or IOReport channel name
  std::string zone;    // a stable id of the source (RAPL zone directory, IOReport group/channel)
  std::string parent;  // zone id of the enclosing counter, "" if none (RAPL core inside package)
  std::string unit;
  double value = 0;
  double max = 0;  // the value at which the counter wraps to 0; 0 when it does not wrap
};

// Cumulative residency per state of one IOReport state channel (macOS).
struct StateResidency {
  std::string group;
  std::string subgroup;
  std::string channel;
  std::vector<std::pair<std::string, double>> states;
};

struct Temperature {
  std::string zone;
  std::string type;
  double celsius = 0;
};

struct MemoryCounters {
  double totalBytes = 0;
  double availableBytes = 0;
  double usedBytes = 0;
  // Linux PSI (/proc/pressure/memory): cumulative stall microseconds and the kernel's 10 s averages.
  bool hasPressure = false;
  double someTotalUs = 0;
  double fullTotalUs = 0;
  double someAvg10 = 0;
  double fullAvg10 = 0;
  // macOS kern.memorystatus_vm_pressure_level: "normal" | "warn" | "critical"; "" when unknown.
  std::string pressureLevel;
};

struct Sample {
  std::string platform;
  double monotonicMs = 0;  // CLOCK_MONOTONIC when the sample was taken
  double ticksPerSecond = 0;
  CpuTicks cpuTotal;
  std::vector<CpuTicks> cores;
  MemoryCounters memory;
  std::vector<Temperature> temperatures;
  std::vector<EnergyCounter> energy;
  std::vector<StateResidency> residencies;
  std::vector<std::string> notes;  // optional sources that could not be read, and why
};

struct MlxMemory {
  bool available = false;
  std::string reason;
  double active = 0;
  double peak = 0;
  double cache = 0;
};

// Implemented once per platform (linux/, darwin/, or unsupported.cc).
PeerCredentials ReadPeerCredentials(int fd);
// unix_socket.cc: throws a coded error unless fd is an open Unix-domain socket.
void RequireUnixSocket(int fd);
// `root` prefixes /proc and /sys on Linux ("/" normally; a directory tree in tests).
Sample ReadSample(const std::string& root);
// mlx_memory.cc
MlxMemory ReadMlxMemory();

double MonotonicMs();

}  // namespace forge
