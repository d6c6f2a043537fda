// MLX's allocator counters, when CMake found MLX; otherwise a plain "absent" answer.
#include "platform.h"

#ifdef FORGE_HAVE_MLX
#include <mlx/memory.h>
#endif

namespace forge {

MlxMemory ReadMlxMemory() {
  MlxMemory m;
#ifdef FORGE_HAVE_MLX
  m.available = true;
  m.active = static_cast<double>(mlx::core::get_active_memory());
  m.peak = static_cast<double>(mlx::core::get_peak_memory());
  m.cache = static_cast<double>(mlx::core::get_cache_memory());
#else
  m.reason = "forge_native was built without MLX (CMake find_package(MLX) found no MLX)";
#endif
  return m;
}

}  // namespace forge
