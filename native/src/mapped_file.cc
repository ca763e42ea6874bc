// Reading a whole file into a caller's buffer by mapping it and copying in user space. For a large file,
// such as bench/reload's keepalived.conf (10,000 virtual servers x 8 real servers, 5.6 MB), read(2) steps
// through the page cache one page at a time in the kernel, while a mapping is filled by fault-around, many
// pages per fault. In the qemu guest of the benchmarks (no KVM) a C program copies the 5.6 MB in about
// 3.5 ms this way against 12-14 ms with read(2); in lbd, alternated over 18 reloads each, loading the
// changed file took 20.0 ms median this way against 28.2 ms with read(2).
//
// A mapped file that shrinks while it is copied (an editor truncating it in place) raises SIGBUS on the
// pages past its new end. The copy catches it (a handler installed for the copy only, jumping back out of
// it) and reports it, so that the caller reads the file the ordinary way instead of the process dying.
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "registry.h"

namespace {

// Set on the thread copying, for the duration of the copy. Volatile and fenced: otherwise the compiler,
// seeing no reader, drops the store (it is cleared right after the copy) or moves it past the copy.
thread_local sigjmp_buf* volatile copyJump = nullptr;
struct sigaction previousBus;

void OnBus(int sig, siginfo_t* info, void* context) {
  if (copyJump != nullptr) siglongjmp(*copyJump, 1);
  // Not a fault of the copy: the previous disposition takes it when the faulting access runs again.
  sigaction(SIGBUS, &previousBus, nullptr);
}

// Copies size bytes of the mapping; false when a page past the file's end was touched (SIGBUS).
bool CopyGuarded(void* to, const void* from, size_t size) {
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  act.sa_sigaction = OnBus;
  act.sa_flags = SA_SIGINFO;
  sigemptyset(&act.sa_mask);
  sigaction(SIGBUS, &act, &previousBus);
  sigjmp_buf jump;
  volatile bool ok = true;
  if (sigsetjmp(jump, 1) == 0) {
    copyJump = &jump;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    memcpy(to, from, size);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    ok = false;
  }
  copyJump = nullptr;
  sigaction(SIGBUS, &previousBus, nullptr);
  return ok;
}

// read(path: string, into: Buffer): number
//   n >= 0, n <= into.length: the file's n bytes are in into[0, n);
//   n > into.length: the file has n bytes, nothing copied (a larger buffer is needed);
//   -1: the file cannot be mapped (not a regular file, says 0 bytes, or mmap refused it): read(2) it;
//   -2: the file got shorter during the copy: read it again.
// Throws an Error naming the file and errno when it cannot be opened.
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "read(path, into): a string and a Buffer expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> into = info[1].As<Napi::Buffer<uint8_t>>();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Napi::Error e = Napi::Error::New(env, path + ": " + strerror(errno));
    e.Set("errno", Napi::Number::New(env, errno));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Napi::Number::New(env, -1);
  }
  size_t size = static_cast<size_t>(st.st_size);
  // Files of /proc and /sys say 0 bytes and have some; an empty file read(2) reads as fast.
  if (size == 0 || size > into.Length()) {
    close(fd);
    return Napi::Number::New(env, size == 0 ? -1 : static_cast<double>(size));
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return Napi::Number::New(env, -1);
  bool ok = CopyGuarded(into.Data(), map, size);
  munmap(map, size);
  return Napi::Number::New(env, ok ? static_cast<double>(size) : -2);
}

void InitMappedFile(Napi::Env env, Napi::Object target) { target.Set("read", Napi::Function::New(env, Read, "read")); }

}  // namespace

LBD_MODULE(mappedFile, InitMappedFile);
