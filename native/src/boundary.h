// The JS boundary of forge_native: argument checks and error translation, shared by every export.
// Every error that reaches JS carries a stable `code` (see src/errors.ts Codes); nothing crashes.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

namespace forge {

// Stable codes, mirrored in src/errors.ts.
inline constexpr const char* kBadArgument = "FORGE_NATIVE_BAD_ARGUMENT";
inline constexpr const char* kSyscall = "FORGE_NATIVE_SYSCALL";
inline constexpr const char* kUnavailable = "FORGE_NATIVE_UNAVAILABLE";
inline constexpr const char* kInternal = "FORGE_NATIVE_INTERNAL";

// A failure with a stable code; platform code throws it, Guarded() turns it into a JS error.
class NativeError : public std::runtime_error {
 public:
  NativeError(const char* code, const std::string& message, const char* syscall = nullptr, int err = 0)
      : std::runtime_error(message), code_(code), syscall_(syscall), errno_(err) {}
  const char* code() const { return code_; }
  const char* syscall() const { return syscall_; }
  int err() const { return errno_; }

 private:
  const char* code_;
  const char* syscall_;
  int errno_;
};

[[noreturn]] void ThrowBadArgument(const std::string& message);
[[noreturn]] void ThrowUnavailable(const std::string& message);
// `what` names the call and its object, e.g. "getsockopt(SO_PEERCRED) on fd 7".
[[noreturn]] void ThrowSyscall(const char* syscall, const std::string& what, int err);

// "EBADF", "ENOTSOCK", ...; "errno 123" for numbers the table does not know.
std::string ErrnoName(int err);

// Argument helpers: `fn` names the export in messages ("peerCredentials").
void RequireArgCount(const Napi::CallbackInfo& info, const char* fn, size_t min, size_t max);
int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* fn);
// An optional absolute path argument; `fallback` when absent or undefined.
std::string ArgOptionalPath(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name,
                            const std::string& fallback);

// A JS Error with `code`, and for syscall failures `syscall` and `errno` (the name, e.g. "EBADF").
Napi::Error MakeJsError(Napi::Env env, const NativeError& e);

// Wraps an export so no C++ exception escapes: coded errors keep their code, anything else
// (std::bad_alloc, a logic error) becomes FORGE_NATIVE_INTERNAL.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;  // already a JS exception; node-addon-api rethrows it into JS
  } catch (const NativeError& e) {
    throw MakeJsError(env, e);
  } catch (const std::exception& e) {
    throw MakeJsError(env, NativeError(kInternal, std::string("internal error: ") + e.what()));
  } catch (...) {
    throw MakeJsError(env, NativeError(kInternal, "internal error: unknown C++ exception"));
  }
}

}  // namespace forge
