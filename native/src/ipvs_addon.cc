// node binding of the IPVS generic netlink transport: class GenlSocket whose methods return promises and
// run the socket I/O on libuv's thread pool (the event loop never waits for the kernel).
#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "ipvs_genl.h"
#include "registry.h"

namespace lbd {
namespace ipvs {
namespace {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

class Socket;

// Runs `job` on the thread pool, then `done` on the main thread to resolve the promise.
class Work : public Napi::AsyncWorker {
 public:
  using Job = std::function<int()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  Work(Napi::Env env, Socket* owner, Napi::Object self, std::string what, Job job, Done done)
      : Napi::AsyncWorker(env, "lbd.ipvs"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        self_(Napi::Persistent(self)),
        what_(std::move(what)),
        job_(std::move(job)),
        done_(std::move(done)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { err_ = job_(); }
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  Socket* owner_;
  Napi::ObjectReference self_;
  std::string what_;
  Job job_;
  Done done_;
  int err_ = 0;
};

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GenlSocket",
                       {
                           InstanceMethod<&Socket::ResolveFamily>("resolveFamily"),
                           InstanceMethod<&Socket::Exchange>("exchange"),
                           InstanceMethod<&Socket::Batch>("batch"),
                           InstanceMethod<&Socket::Close>("close"),
                           InstanceAccessor<&Socket::PortId>("portId"),
                           InstanceAccessor<&Socket::Busy>("busy"),
                       });
  }

  // new GenlSocket(timeoutMs?, netnsPath?)
  explicit Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
    std::string netns;
    if (info.Length() > 1 && info[1].IsString()) netns = info[1].As<Napi::String>().Utf8Value();
    int err = sock_.Open(netns);
    if (err != 0) {
      std::string where = netns.empty() ? "" : " in network namespace " + netns;
      ErrnoError(info.Env(), err, "cannot open a generic netlink socket" + where).ThrowAsJavaScriptException();
      return;
    }
    if (info.Length() > 0 && info[0].IsNumber()) sock_.timeout_ms = info[0].As<Napi::Number>().Int32Value();
  }

  void Finished() {
    busy_ = false;
    if (close_pending_) sock_.Close();
  }

 private:
  // Starts `job` unless the socket is closed or already running one (callers queue their requests).
  Napi::Value Start(const Napi::CallbackInfo& info, const std::string& what, Work::Job job, Work::Done done) {
    Napi::Env env = info.Env();
    if (!sock_.IsOpen() || close_pending_) {
      ErrnoError(env, EBADF, what + ": socket closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (busy_) {
      ErrnoError(env, EBUSY, what + ": a request is already running on this socket").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    busy_ = true;
    auto* w = new Work(env, this, info.This().As<Napi::Object>(), what, std::move(job), std::move(done));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  bool BufferArg(const Napi::CallbackInfo& info, std::shared_ptr<std::vector<uint8_t>>* out) {
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(info.Env(), "expected a Buffer of netlink messages").ThrowAsJavaScriptException();
      return false;
    }
    auto b = info[0].As<Napi::Buffer<uint8_t>>();
    *out = std::make_shared<std::vector<uint8_t>>(b.Data(), b.Data() + b.Length());
    return true;
  }

  Napi::Value ResolveFamily(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(info.Env(), "expected a family name").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    auto fam = std::make_shared<FamilyInfo>();
    auto msg = std::make_shared<std::string>();
    auto err = std::make_shared<int>(0);
    return Start(
        info, "resolve generic netlink family " + name,
        [this, name, fam, msg, err]() {
          *err = sock_.ResolveFamily(name, fam.get(), msg.get());
          return 0;
        },
        [fam, msg, err](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("error", Napi::Number::New(env, *err));
          o.Set("message", Napi::String::New(env, *msg));
          o.Set("id", Napi::Number::New(env, fam->id));
          o.Set("version", Napi::Number::New(env, fam->version));
          o.Set("maxAttr", Napi::Number::New(env, fam->max_attr));
          return o;
        });
  }

  Napi::Value Exchange(const Napi::CallbackInfo& info) {
    std::shared_ptr<std::vector<uint8_t>> in;
    if (!BufferArg(info, &in)) return info.Env().Undefined();
    auto res = std::make_shared<ExchangeResult>();
    return Start(
        info, "netlink exchange", [this, in, res]() { return sock_.Exchange(in->data(), in->size(), res.get()); },
        [res](Napi::Env env) -> Napi::Value {
          size_t n = res->replies.size();
          Napi::Object o = Napi::Object::New(env);
          o.Set("data", Napi::Buffer<uint8_t>::Copy(env, res->data.data(), res->data.size()));
          auto offsets = Napi::Uint32Array::New(env, n);
          auto lengths = Napi::Uint32Array::New(env, n);
          auto errors = Napi::Int32Array::New(env, n);
          Napi::Array messages = Napi::Array::New(env, n);
          for (size_t i = 0; i < n; i++) {
            offsets[i] = res->replies[i].offset;
            lengths[i] = res->replies[i].length;
            errors[i] = res->replies[i].error;
            messages.Set(static_cast<uint32_t>(i), Napi::String::New(env, res->replies[i].message));
          }
          o.Set("offsets", offsets);
          o.Set("lengths", lengths);
          o.Set("errors", errors);
          o.Set("messages", messages);
          return o;
        });
  }

  Napi::Value Batch(const Napi::CallbackInfo& info) {
    std::shared_ptr<std::vector<uint8_t>> in;
    if (!BufferArg(info, &in)) return info.Env().Undefined();
    size_t window = 256;
    if (info.Length() > 1 && info[1].IsNumber()) window = info[1].As<Napi::Number>().Uint32Value();
    auto res = std::make_shared<BatchResult>();
    return Start(
        info, "netlink batch",
        [this, in, res, window]() { return sock_.Batch(in->data(), in->size(), window, res.get()); },
        [res](Napi::Env env) -> Napi::Value {
          size_t n = res->errors.size();
          Napi::Object o = Napi::Object::New(env);
          auto errors = Napi::Int32Array::New(env, n);
          Napi::Array messages = Napi::Array::New(env, n);
          for (size_t i = 0; i < n; i++) {
            errors[i] = res->errors[i];
            if (res->errors[i] != 0) {
              messages.Set(static_cast<uint32_t>(i), Napi::String::New(env, res->messages[i]));
            }
          }
          o.Set("errors", errors);
          o.Set("messages", messages);
          o.Set("sends", Napi::Number::New(env, res->sends));
          return o;
        });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_) {
      close_pending_ = true;
    } else {
      sock_.Close();
    }
    return info.Env().Undefined();
  }

  Napi::Value PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), sock_.PortId()); }
  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_); }

  GenlSocket sock_;
  bool busy_ = false;
  bool close_pending_ = false;
  friend class Work;
};

void Work::OnOK() {
  Napi::Env env = Env();
  owner_->Finished();
  if (err_ != 0) {
    deferred_.Reject(ErrnoError(env, err_, what_).Value());
    return;
  }
  deferred_.Resolve(done_(env));
}

void Work::OnError(const Napi::Error& e) {
  owner_->Finished();
  deferred_.Reject(e.Value());
}

void InitIpvs(Napi::Env env, Napi::Object target) {
  target.Set("GenlSocket", Socket::Define(env));
  target.Set("ENOBUFS", Napi::Number::New(env, ENOBUFS));
}

}  // namespace
}  // namespace ipvs
}  // namespace lbd

LBD_MODULE(ipvs, lbd::ipvs::InitIpvs);
