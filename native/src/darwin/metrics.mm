// sampleMetrics on macOS: CPU ticks (host_processor_info), memory (host_statistics64), and IOReport:
// "Energy Model" energy per rail, "CPU Stats"/"GPU Stats" state residencies. No sudo needed.
// Counters are cumulative since this process's first sample: IOReportCreateSamplesDelta against a
// baseline taken at subscription, so the JS side treats macOS and Linux counters alike.
// Unverified here: compiled and run on macOS only.
#ifdef __APPLE__

#include <mach/mach.h>
#include <mach/mach_error.h>
#include <mach/processor_info.h>
#include <sys/sysctl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "../boundary.h"
#include "../platform.h"
#include "ioreport.h"

namespace forge {
namespace {

std::string FromCf(CFStringRef s) {
  if (s == nullptr) return "";
  char buf[256];
  if (!CFStringGetCString(s, buf, sizeof buf, kCFStringEncodingUTF8)) return "";
  std::string out(buf);
  while (!out.empty() && out.back() == ' ') out.pop_back();  // unit labels come padded ("mJ ")
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  return out;
}

bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Energy Model channel names → rails, as macmon reads them: "CPU Energy" (or "DIE_N_CPU Energy"
// on Ultra), "GPU Energy", "ANE"/"ANE0"/"ANE0_N", "DRAM"/"DRAM0". Other channels are skipped.
const char* RailForChannel(const std::string& channel) {
  if (EndsWith(channel, "CPU Energy")) return "cpu";
  if (EndsWith(channel, "GPU Energy")) return "gpu";
  if (StartsWith(channel, "ANE")) return "ane";
  if (StartsWith(channel, "DRAM")) return "dram";
  return nullptr;
}

const char* const kCpuResidency = "CPU Core Performance States";
const char* const kGpuResidency = "GPU Performance States";

struct Subscription {
  CFMutableDictionaryRef channels = nullptr;
  IOReportSubscriptionRef sub = nullptr;
  CFDictionaryRef baseline = nullptr;
  std::string error;
};

CFDictionaryRef CopyGroup(const char* group, const char* subgroup) {
  CFStringRef g = CFStringCreateWithCString(kCFAllocatorDefault, group, kCFStringEncodingUTF8);
  CFStringRef sg =
      subgroup ? CFStringCreateWithCString(kCFAllocatorDefault, subgroup, kCFStringEncodingUTF8) : nullptr;
  CFDictionaryRef ch = IOReportCopyChannelsInGroup(g, sg, 0, 0, 0);
  CFRelease(g);
  if (sg) CFRelease(sg);
  return ch;
}

// One subscription per process, made on first use and kept (IOReport setup costs milliseconds).
Subscription& Subscribe() {
  static Subscription s;
  static std::once_flag once;
  std::call_once(once, [] {
    CFDictionaryRef groups[3] = {CopyGroup("Energy Model", nullptr), CopyGroup("CPU Stats", kCpuResidency),
                                 CopyGroup("GPU Stats", kGpuResidency)};
    CFDictionaryRef first = nullptr;
    for (CFDictionaryRef g : groups) {
      if (g == nullptr) continue;
      if (first == nullptr) first = g;
      else IOReportMergeChannels(first, g, nullptr);
    }
    if (first == nullptr) {
      s.error = "IOReport: no Energy Model / CPU Stats / GPU Stats channels";
    } else {
      s.channels = CFDictionaryCreateMutableCopy(kCFAllocatorDefault, CFDictionaryGetCount(first), first);
      // Ownership of `subscribed` is undocumented (the public tools differ); a one-time leak is
      // safer than an over-release.
      CFMutableDictionaryRef subscribed = nullptr;
      s.sub = IOReportCreateSubscription(nullptr, s.channels, &subscribed, 0, nullptr);
      if (s.sub == nullptr) s.error = "IOReport: IOReportCreateSubscription failed";
      else s.baseline = IOReportCreateSamples(s.sub, s.channels, nullptr);
      if (s.sub != nullptr && s.baseline == nullptr) s.error = "IOReport: IOReportCreateSamples failed";
    }
    for (CFDictionaryRef g : groups) {
      if (g != nullptr) CFRelease(g);
    }
  });
  return s;
}

void ReadIOReport(Sample& out) {
  static std::mutex mu;  // IOReport objects are shared by every thread (worker) using the addon
  std::lock_guard<std::mutex> lock(mu);
  Subscription& s = Subscribe();
  if (!s.error.empty()) {
    out.notes.push_back(s.error);
    return;
  }
  CFDictionaryRef now = IOReportCreateSamples(s.sub, s.channels, nullptr);
  if (now == nullptr) {
    out.notes.push_back("IOReport: IOReportCreateSamples failed");
    return;
  }
  CFDictionaryRef delta = IOReportCreateSamplesDelta(s.baseline, now, nullptr);
  CFRelease(now);
  if (delta == nullptr) {
    out.notes.push_back("IOReport: IOReportCreateSamplesDelta failed");
    return;
  }
  auto items = static_cast<CFArrayRef>(CFDictionaryGetValue(delta, CFSTR("IOReportChannels")));
  CFIndex n = items ? CFArrayGetCount(items) : 0;
  for (CFIndex i = 0; i < n; i++) {
    auto item = static_cast<CFDictionaryRef>(CFArrayGetValueAtIndex(items, i));
    std::string group = FromCf(IOReportChannelGetGroup(item));
    std::string channel = FromCf(IOReportChannelGetChannelName(item));
    if (group == "Energy Model") {
      const char* rail = RailForChannel(channel);
      if (rail == nullptr) continue;
      EnergyCounter c;
      c.rail = rail;
      c.name = channel;
      c.zone = group + "/" + channel;
      c.unit = FromCf(IOReportChannelGetUnitLabel(item));
      c.value = static_cast<double>(IOReportSimpleGetIntegerValue(item, 0));
      out.energy.push_back(std::move(c));
      continue;
    }
    std::string subgroup = FromCf(IOReportChannelGetSubGroup(item));
    if (subgroup != kCpuResidency && subgroup != kGpuResidency) continue;
    StateResidency r;
    r.group = group;
    r.subgroup = subgroup;
    r.channel = channel;
    int32_t states = IOReportStateGetCount(item);
    for (int32_t k = 0; k < states; k++) {
      r.states.emplace_back(FromCf(IOReportStateGetNameForIndex(item, k)),
                            static_cast<double>(IOReportStateGetResidency(item, k)));
    }
    out.residencies.push_back(std::move(r));
  }
  CFRelease(delta);
}

[[noreturn]] void ThrowMach(const char* call, kern_return_t kr) {
  throw NativeError(kSyscall, std::string(call) + ": " + mach_error_string(kr), call, EIO);
}

void ReadCpu(host_t host, Sample& s) {
  natural_t count = 0;
  processor_info_array_t info = nullptr;
  mach_msg_type_number_t infoCount = 0;
  kern_return_t kr = host_processor_info(host, PROCESSOR_CPU_LOAD_INFO, &count, &info, &infoCount);
  if (kr != KERN_SUCCESS) ThrowMach("host_processor_info", kr);
  auto load = reinterpret_cast<processor_cpu_load_info_t>(info);
  for (natural_t i = 0; i < count; i++) {
    const unsigned int* t = load[i].cpu_ticks;
    CpuTicks c;
    c.busy = static_cast<double>(t[CPU_STATE_USER]) + t[CPU_STATE_SYSTEM] + t[CPU_STATE_NICE];
    c.idle = static_cast<double>(t[CPU_STATE_IDLE]);
    s.cpuTotal.busy += c.busy;
    s.cpuTotal.idle += c.idle;
    s.cores.push_back(c);
  }
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(info), infoCount * sizeof(integer_t));
}

void ReadMemory(host_t host, Sample& s) {
  vm_statistics64_data_t vm{};
  mach_msg_type_number_t n = HOST_VM_INFO64_COUNT;
  kern_return_t kr = host_statistics64(host, HOST_VM_INFO64, reinterpret_cast<host_info64_t>(&vm), &n);
  if (kr != KERN_SUCCESS) ThrowMach("host_statistics64", kr);
  vm_size_t page = 0;
  kr = host_page_size(host, &page);
  if (kr != KERN_SUCCESS) ThrowMach("host_page_size", kr);
  uint64_t total = 0;
  size_t len = sizeof total;
  if (sysctlbyname("hw.memsize", &total, &len, nullptr, 0) != 0) ThrowSyscall("sysctlbyname", "hw.memsize", errno);
  // Activity Monitor's "Memory Used": app memory (internal - purgeable) + wired + compressed.
  double pages = static_cast<double>(vm.internal_page_count) - vm.purgeable_count + vm.wire_count +
                 vm.compressor_page_count;
  double used = pages * static_cast<double>(page);
  s.memory.totalBytes = static_cast<double>(total);
  s.memory.usedBytes = used;
  s.memory.availableBytes = s.memory.totalBytes > used ? s.memory.totalBytes - used : 0;
  int level = 0;
  len = sizeof level;
  if (sysctlbyname("kern.memorystatus_vm_pressure_level", &level, &len, nullptr, 0) == 0) {
    s.memory.pressureLevel = level == 4 ? "critical" : level == 2 ? "warn" : level == 1 ? "normal" : "";
  }
}

}  // namespace

Sample ReadSample(const std::string& root) {
  if (root != "/") ThrowUnavailable("sampleMetrics(root): a root other than '/' is supported on Linux only");
  static host_t host = mach_host_self();  // one send right for the process, not one per call
  Sample s;
  s.platform = "darwin";
  s.monotonicMs = MonotonicMs();
  s.ticksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  ReadCpu(host, s);
  ReadMemory(host, s);
  ReadIOReport(s);
  s.notes.push_back("temperature: not read on macOS (needs SMC or IOHID private APIs)");
  return s;
}

}  // namespace forge

#endif
