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
  RequireUnixSocket(fd);
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
