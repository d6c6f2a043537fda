// Platforms with neither a linux/ nor a darwin/ implementation: every platform call is unavailable.
#if !defined(__linux__) && !defined(__APPLE__)

#include "boundary.h"
#include "platform.h"

namespace forge {

PeerCredentials ReadPeerCredentials(int) { ThrowUnavailable("peerCredentials is implemented for Linux and macOS only"); }

Sample ReadSample(const std::string&) { ThrowUnavailable("sampleMetrics is implemented for Linux and macOS only"); }

}  // namespace forge

#endif
