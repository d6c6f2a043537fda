// peerCredentials on macOS: getpeereid() for uid/gid, LOCAL_PEERPID for the pid.
// Unverified here: compiled and run on macOS only.
#ifdef __APPLE__

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "../boundary.h"
#include "../platform.h"

namespace forge {

PeerCredentials ReadPeerCredentials(int fd) {
  const std::string on = " on fd " + std::to_string(fd);
  RequireUnixSocket(fd);
  uid_t uid = 0;
  gid_t gid = 0;
  if (getpeereid(fd, &uid, &gid) != 0) ThrowSyscall("getpeereid", "getpeereid" + on, errno);
  pid_t pid = 0;
  socklen_t plen = sizeof pid;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &plen) != 0) {
    ThrowSyscall("getsockopt", "getsockopt(LOCAL_PEERPID)" + on, errno);
  }
  if (pid <= 0) ThrowSyscall("getsockopt", "getsockopt(LOCAL_PEERPID)" + on + " (no peer)", ENOTCONN);
  return PeerCredentials{pid, uid, gid};
}

}  // namespace forge

#endif
