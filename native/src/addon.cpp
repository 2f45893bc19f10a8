// node-addon-api binding: byte-level entry points over the C++ core. Every argument is checked here
// or in the core; bad input becomes a JavaScript Error with a `code` property, never a crash.
#include <napi.h>

#include <string>
#include <thread>
#include <vector>

#include "errors.hpp"
#include "g1.hpp"
#include "hash_to_curve.hpp"
#include "keccak.hpp"
#include "msm.hpp"

namespace {

using namespace zkdl;

[[noreturn]] void fail(const char* code, const std::string& message) { throw InputError(code, message); }

Napi::Error to_js(Napi::Env env, const InputError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", Napi::String::New(env, e.code()));
  return err;
}

/// Wraps a binding body so core errors reach JavaScript as coded errors.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body();
  } catch (const InputError& e) {
    throw to_js(info.Env(), e);
  } catch (const std::bad_alloc&) {
    Napi::Error err = Napi::Error::New(info.Env(), "out of memory");
    err.Set("code", Napi::String::New(info.Env(), "ZKDL_OUT_OF_MEMORY"));
    throw err;
  }
}

Napi::Uint8Array bytes_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    fail("ZKDL_INVALID_ARGUMENT", std::string(name) + " must be a Uint8Array");
  return info[i].As<Napi::Uint8Array>();
}

Napi::Uint8Array fixed_bytes_arg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t len) {
  Napi::Uint8Array a = bytes_arg(info, i, name);
  if (a.ByteLength() != len)
    fail("ZKDL_INVALID_LENGTH", std::string(name) + " must be " + std::to_string(len) + " bytes, got " + std::to_string(a.ByteLength()));
  return a;
}

Napi::Uint8Array output(Napi::Env env, size_t len) { return Napi::Uint8Array::New(env, len); }

Napi::Value Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", "cpu");
  o.Set("threads", std::max(1u, std::thread::hardware_concurrency()));
  o.Set("cudaCompiled", false);
  o.Set("cudaAvailable", false);
  return o;
}

Napi::Value Keccak256(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Uint8Array data = bytes_arg(info, 0, "data");
    Napi::Uint8Array out = output(info.Env(), 32);
    keccak256(data.Data(), data.ByteLength(), out.Data());
    return out;
  });
}

Napi::Value G1AddJs(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    G1Affine a = G1Affine::from_bytes(fixed_bytes_arg(info, 0, "a", 64).Data());
    G1Affine b = G1Affine::from_bytes(fixed_bytes_arg(info, 1, "b", 64).Data());
    Napi::Uint8Array out = output(info.Env(), 64);
    G1::from_affine(a).add_mixed(b).to_affine().to_bytes(out.Data());
    return out;
  });
}

Napi::Value G1MulJs(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    G1Affine p = G1Affine::from_bytes(fixed_bytes_arg(info, 0, "point", 64).Data());
    Fr s = Fr::from_bytes(fixed_bytes_arg(info, 1, "scalar", 32).Data());
    u64 k[4];
    s.to_canonical(k);
    Napi::Uint8Array out = output(info.Env(), 64);
    G1::from_affine(p).mul(k).to_affine().to_bytes(out.Data());
    return out;
  });
}

Napi::Value HashToG1(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Uint8Array dst = bytes_arg(info, 0, "dst");
    Napi::Uint8Array msg = bytes_arg(info, 1, "msg");
    Napi::Uint8Array out = output(info.Env(), 64);
    hash_to_g1(dst.Data(), dst.ByteLength(), msg.Data(), msg.ByteLength()).to_bytes(out.Data());
    return out;
  });
}

/// Element-wise field operation over n×32-byte arrays: fieldOp("fr"|"fq", op, a[, b]).
template <class F>
void field_op(const std::string& op, const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    F x = F::from_bytes(a + 32 * i);
    F y = b ? F::from_bytes(b + 32 * i) : F::zero();
    F r;
    if (op == "add") r = x + y;
    else if (op == "sub") r = x - y;
    else if (op == "mul") r = x * y;
    else if (op == "neg") r = -x;
    else if (op == "sqr") r = x.sqr();
    else if (op == "inv") {
      if (x.is_zero()) fail("ZKDL_DIVISION_BY_ZERO", "inverse of zero");
      r = x.inv();
    } else fail("ZKDL_INVALID_ARGUMENT", "unknown field operation " + op);
    r.to_bytes(out + 32 * i);
  }
}

Napi::Value FieldOp(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString())
      fail("ZKDL_INVALID_ARGUMENT", "fieldOp(field, op, a[, b])");
    std::string field = info[0].As<Napi::String>(), op = info[1].As<Napi::String>();
    bool unary = op == "neg" || op == "sqr" || op == "inv";
    Napi::Uint8Array a = bytes_arg(info, 2, "a");
    if (a.ByteLength() % 32 != 0) fail("ZKDL_INVALID_LENGTH", "a must be a multiple of 32 bytes");
    const uint8_t* b = nullptr;
    if (!unary) {
      Napi::Uint8Array bb = bytes_arg(info, 3, "b");
      if (bb.ByteLength() != a.ByteLength()) fail("ZKDL_INVALID_LENGTH", "a and b must have the same length");
      b = bb.Data();
    }
    size_t n = a.ByteLength() / 32;
    Napi::Uint8Array out = output(info.Env(), a.ByteLength());
    if (field == "fr") field_op<Fr>(op, a.Data(), b, out.Data(), n);
    else if (field == "fq") field_op<Fq>(op, a.Data(), b, out.Data(), n);
    else fail("ZKDL_INVALID_ARGUMENT", "field must be \"fr\" or \"fq\"");
    return out;
  });
}

/// Parsed MSM input; parsing (and so validation) happens on the calling thread.
struct MsmInput {
  std::vector<G1Affine> points;
  std::vector<Fr> scalars;
};

MsmInput parse_msm(const Napi::CallbackInfo& info) {
  Napi::Uint8Array pts = bytes_arg(info, 0, "points");
  Napi::Uint8Array scs = bytes_arg(info, 1, "scalars");
  if (pts.ByteLength() % 64 != 0) fail("ZKDL_INVALID_LENGTH", "points must be n×64 bytes");
  if (scs.ByteLength() % 32 != 0) fail("ZKDL_INVALID_LENGTH", "scalars must be n×32 bytes");
  size_t n = pts.ByteLength() / 64;
  if (scs.ByteLength() / 32 != n)
    fail("ZKDL_INVALID_LENGTH", std::to_string(n) + " points but " + std::to_string(scs.ByteLength() / 32) + " scalars");
  MsmInput in;
  in.points.reserve(n);
  in.scalars.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    try {
      in.points.push_back(G1Affine::from_bytes(pts.Data() + 64 * i));
      in.scalars.push_back(Fr::from_bytes(scs.Data() + 32 * i));
    } catch (const InputError& e) {
      fail(e.code(), std::string(e.what()) + " (term " + std::to_string(i) + ")");
    }
  }
  return in;
}

Napi::Value Msm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MsmInput in = parse_msm(info);
    Napi::Uint8Array out = output(info.Env(), 64);
    msm(in.points.data(), in.scalars.data(), in.points.size()).to_affine().to_bytes(out.Data());
    return out;
  });
}

class MsmWorker : public Napi::AsyncWorker {
 public:
  MsmWorker(Napi::Env env, MsmInput&& in) : Napi::AsyncWorker(env), in_(std::move(in)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { msm(in_.points.data(), in_.scalars.data(), in_.points.size()).to_affine().to_bytes(result_); }
  void OnOK() override {
    Napi::Uint8Array out = Napi::Uint8Array::New(Env(), 64);
    std::copy(result_, result_ + 64, out.Data());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  MsmInput in_;
  uint8_t result_[64] = {0};
  Napi::Promise::Deferred deferred_;
};

Napi::Value MsmAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto* worker = new MsmWorker(info.Env(), parse_msm(info));
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("backend", Napi::Function::New(env, Backend));
  exports.Set("keccak256", Napi::Function::New(env, Keccak256));
  exports.Set("g1Add", Napi::Function::New(env, G1AddJs));
  exports.Set("g1Mul", Napi::Function::New(env, G1MulJs));
  exports.Set("hashToG1", Napi::Function::New(env, HashToG1));
  exports.Set("fieldOp", Napi::Function::New(env, FieldOp));
  exports.Set("msm", Napi::Function::New(env, Msm));
  exports.Set("msmAsync", Napi::Function::New(env, MsmAsync));
  return exports;
}

}  // namespace

NODE_API_MODULE(zkdl_native, Init)
