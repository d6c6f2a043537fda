#include "boundary.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>

namespace forge {

void ThrowBadArgument(const std::string& message) { throw NativeError(kBadArgument, message); }

void ThrowUnavailable(const std::string& message) { throw NativeError(kUnavailable, message); }

void ThrowSyscall(const char* syscall, const std::string& what, int err) {
  throw NativeError(kSyscall, what + ": " + ErrnoName(err) + " (" + std::strerror(err) + ")", syscall, err);
}

std::string ErrnoName(int err) {
  // The errnos these calls can return; a table, because strerrorname_np is glibc-only.
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOSYS: return "ENOSYS";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOTCONN: return "ENOTCONN";
#ifdef ENODATA
    case ENODATA: return "ENODATA";
#endif
    default: return "errno " + std::to_string(err);
  }
}

void RequireArgCount(const Napi::CallbackInfo& info, const char* fn, size_t min, size_t max) {
  size_t n = info.Length();
  // Trailing undefined arguments count as absent, as in a JS default parameter.
  while (n > min && info[n - 1].IsUndefined()) n--;
  if (n < min || n > max) {
    std::string want = min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    ThrowBadArgument(std::string(fn) + "() takes " + want + " argument" + (max == 1 && min == max ? "" : "s") +
                     ", got " + std::to_string(info.Length()));
  }
}

int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) {
    ThrowBadArgument(std::string(fn) + "(fd): fd must be a number (a file descriptor), got " +
                     (v.IsString() ? "a string" : v.IsUndefined() ? "undefined" : "another type"));
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > INT_MAX) {
    ThrowBadArgument(std::string(fn) + "(fd): fd must be a whole number from 0 to " + std::to_string(INT_MAX) +
                     ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int>(d);
}

std::string ArgOptionalPath(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name,
                            const std::string& fallback) {
  if (index >= info.Length() || info[index].IsUndefined()) return fallback;
  Napi::Value v = info[index];
  if (!v.IsString()) ThrowBadArgument(std::string(fn) + "(" + name + "): " + name + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s[0] != '/' || s.find('\0') != std::string::npos) {
    ThrowBadArgument(std::string(fn) + "(" + name + "): " + name + " must be an absolute path, got '" + s + "'");
  }
  return s;
}

Napi::Error MakeJsError(Napi::Env env, const NativeError& e) {
  Napi::Error js = Napi::Error::New(env, e.what());
  js.Set("code", Napi::String::New(env, e.code()));
  if (e.syscall() != nullptr) {
    js.Set("syscall", Napi::String::New(env, e.syscall()));
    js.Set("errno", Napi::String::New(env, ErrnoName(e.err())));
  }
  return js;
}

}  // namespace forge
