// The check both platforms' peerCredentials make first: fd must be an open Unix-domain socket.
#if defined(__linux__) || defined(__APPLE__)

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>

#include "boundary.h"
#include "platform.h"

namespace forge {

void RequireUnixSocket(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  // getsockname first: it fails with EBADF/ENOTSOCK for closed fds and files, and tells the family.
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ThrowSyscall("getsockname", "getsockname on fd " + std::to_string(fd), errno);
  }
  if (addr.ss_family != AF_UNIX) {
    // SO_PEERCRED on a TCP socket "succeeds" with pid 0 and uid -1; refuse instead of lying.
    ThrowBadArgument("peerCredentials(fd): fd " + std::to_string(fd) + " is a socket of address family " +
                     std::to_string(addr.ss_family) + ", not a Unix-domain socket");
  }
}

}  // namespace forge

#endif
