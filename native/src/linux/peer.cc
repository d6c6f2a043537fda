// peerCredentials on Linux: SO_PEERCRED names the process that connect()ed (or socketpair()ed).
#ifdef __linux__

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>

#include "../boundary.h"
#include "../platform.h"

namespace forge {

PeerCredentials ReadPeerCredentials(int fd) {
  const std::string on = " on fd " + std::to_string(fd);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  // getsockname first: it fails with EBADF/ENOTSOCK for closed fds and files, and tells the family.
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ThrowSyscall("getsockname", "getsockname" + on, errno);
  }
  if (addr.ss_family != AF_UNIX) {
    // SO_PEERCRED on a TCP socket "succeeds" with pid 0 and uid -1; refuse instead of lying.
    ThrowBadArgument("peerCredentials(fd): fd " + std::to_string(fd) + " is a socket of address family " +
                     std::to_string(addr.ss_family) + ", not a Unix-domain socket");
  }
  ucred cred{};
  socklen_t clen = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
    ThrowSyscall("getsockopt", "getsockopt(SO_PEERCRED)" + on, errno);
  }
  if (cred.pid <= 0) ThrowSyscall("getsockopt", "getsockopt(SO_PEERCRED)" + on + " (no peer)", ENOTCONN);
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

}  // namespace forge

#endif
