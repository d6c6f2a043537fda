// How a component outside native/src/*.cc (e.g. the gate's native/src/shell/, added by
// native/shell.cmake) adds exports to forge_native without editing addon.cc:
//
//   static Napi::Value ParseJs(const Napi::CallbackInfo& info) { ... }
//   static void AddShellExports(Napi::Env env, Napi::Object exports) {
//     exports.Set("parseShell", Napi::Function::New<forge::Guarded<ParseJs>>(env, "parseShell"));
//   }
//   static forge::ExportRegistration shell_exports(AddShellExports);
//
// Registrations run from static initialisers when the library loads; Init calls each one.
// Use boundary.h's Guarded/ThrowBadArgument so errors keep their stable codes.
#pragma once

#include <napi.h>

namespace forge {

using ExportRegistrar = void (*)(Napi::Env env, Napi::Object exports);

struct ExportRegistration {
  explicit ExportRegistration(ExportRegistrar fn);
};

}  // namespace forge
