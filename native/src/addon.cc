// forge_native: the exports and their JS shapes. Types: src/platform/native.ts.
#include <napi.h>

#include <ctime>
#include <vector>

#include "boundary.h"
#include "extensions.h"
#include "platform.h"

namespace forge {

namespace {
// A function-local static, so registrations from other translation units' static initialisers
// never see it unconstructed.
std::vector<ExportRegistrar>& Registrars() {
  static std::vector<ExportRegistrar> fns;
  return fns;
}
}  // namespace

ExportRegistration::ExportRegistration(ExportRegistrar fn) { Registrars().push_back(fn); }

double MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

namespace {

Napi::Object Ticks(Napi::Env env, const CpuTicks& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("busy", t.busy);
  o.Set("idle", t.idle);
  return o;
}

Napi::Value PeerCredentialsJs(const Napi::CallbackInfo& info) {
  RequireArgCount(info, "peerCredentials", 1, 1);
  int fd = ArgFd(info, 0, "peerCredentials");
  PeerCredentials c = ReadPeerCredentials(fd);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", static_cast<double>(c.pid));
  o.Set("uid", static_cast<double>(c.uid));
  o.Set("gid", static_cast<double>(c.gid));
  return o;
}

Napi::Value SampleMetricsJs(const Napi::CallbackInfo& info) {
  RequireArgCount(info, "sampleMetrics", 0, 1);
  std::string root = ArgOptionalPath(info, 0, "sampleMetrics", "root", "/");
  Sample s = ReadSample(root);
  Napi::Env env = info.Env();

  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("total", Ticks(env, s.cpuTotal));
  Napi::Array cores = Napi::Array::New(env, s.cores.size());
  for (size_t i = 0; i < s.cores.size(); i++) cores.Set(i, Ticks(env, s.cores[i]));
  cpu.Set("cores", cores);

  const MemoryCounters& m = s.memory;
  Napi::Object mem = Napi::Object::New(env);
  mem.Set("totalBytes", m.totalBytes);
  mem.Set("availableBytes", m.availableBytes);
  mem.Set("usedBytes", m.usedBytes);
  if (m.hasPressure) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("someTotalUs", m.someTotalUs);
    p.Set("fullTotalUs", m.fullTotalUs);
    p.Set("someAvg10", m.someAvg10);
    p.Set("fullAvg10", m.fullAvg10);
    mem.Set("pressure", p);
  } else {
    mem.Set("pressure", env.Null());
  }
  mem.Set("pressureLevel", m.pressureLevel.empty() ? env.Null() : Napi::String::New(env, m.pressureLevel));

  Napi::Array temps = Napi::Array::New(env, s.temperatures.size());
  for (size_t i = 0; i < s.temperatures.size(); i++) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("zone", s.temperatures[i].zone);
    t.Set("type", s.temperatures[i].type);
    t.Set("celsius", s.temperatures[i].celsius);
    temps.Set(i, t);
  }

  Napi::Array energy = Napi::Array::New(env, s.energy.size());
  for (size_t i = 0; i < s.energy.size(); i++) {
    const EnergyCounter& e = s.energy[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("rail", e.rail);
    o.Set("name", e.name);
    o.Set("zone", e.zone);
    o.Set("parent", e.parent);
    o.Set("unit", e.unit);
    o.Set("value", e.value);
    o.Set("max", e.max > 0 ? Napi::Value(Napi::Number::New(env, e.max)) : env.Null());
    energy.Set(i, o);
  }

  Napi::Array residencies = Napi::Array::New(env, s.residencies.size());
  for (size_t i = 0; i < s.residencies.size(); i++) {
    const StateResidency& r = s.residencies[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("group", r.group);
    o.Set("subgroup", r.subgroup);
    o.Set("channel", r.channel);
    Napi::Array states = Napi::Array::New(env, r.states.size());
    for (size_t j = 0; j < r.states.size(); j++) {
      Napi::Object st = Napi::Object::New(env);
      st.Set("name", r.states[j].first);
      st.Set("residency", r.states[j].second);
      states.Set(j, st);
    }
    o.Set("states", states);
    residencies.Set(i, o);
  }

  Napi::Array notes = Napi::Array::New(env, s.notes.size());
  for (size_t i = 0; i < s.notes.size(); i++) notes.Set(i, s.notes[i]);

  Napi::Object out = Napi::Object::New(env);
  out.Set("platform", s.platform);
  out.Set("monotonicMs", s.monotonicMs);
  out.Set("ticksPerSecond", s.ticksPerSecond);
  out.Set("cpu", cpu);
  out.Set("memory", mem);
  out.Set("temperatures", temps);
  out.Set("energy", energy);
  out.Set("residencies", residencies);
  out.Set("notes", notes);
  return out;
}

Napi::Value MlxMemoryJs(const Napi::CallbackInfo& info) {
  RequireArgCount(info, "mlxMemory", 0, 0);
  MlxMemory m = ReadMlxMemory();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", m.available);
  if (m.available) {
    o.Set("active", m.active);
    o.Set("peak", m.peak);
    o.Set("cache", m.cache);
  } else {
    o.Set("reason", m.reason);
  }
  return o;
}

}  // namespace
}  // namespace forge

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace forge;
  // Bumped when an export's shape changes; native.ts checks it.
  exports.Set("abi", Napi::Number::New(env, 2));
  exports.Set("peerCredentials", Napi::Function::New<Guarded<PeerCredentialsJs>>(env, "peerCredentials"));
  exports.Set("sampleMetrics", Napi::Function::New<Guarded<SampleMetricsJs>>(env, "sampleMetrics"));
  exports.Set("mlxMemory", Napi::Function::New<Guarded<MlxMemoryJs>>(env, "mlxMemory"));
  for (ExportRegistrar add : Registrars()) add(env, exports);
  return exports;
}

NODE_API_MODULE(forge_native, Init)
