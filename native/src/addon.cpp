// node-addon-api binding: byte-level entry points over the C++ core. Every argument is checked here
// or in the core; bad input becomes a JavaScript Error with a `code` property, never a crash.
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commit.hpp"
#include "errors.hpp"
#include "fixed_base.hpp"
#include "g1.hpp"
#include "generators.hpp"
#include "hash_to_curve.hpp"
#include "keccak.hpp"
#include "gpu/gpu.hpp"
#include "msm.hpp"
#include "parallel.hpp"
#include "tensor.hpp"

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
  const gpu::CudaInfo& cuda = gpu::cuda_info();
  const gpu::Mode mode = gpu::mode();
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", gpu::mode_name(mode));
  // Where large kernels run now: auto resolves to cuda when a device is usable.
  o.Set("device", mode == gpu::Mode::Auto ? (cuda.available ? "cuda" : "cpu") : gpu::mode_name(mode));
  o.Set("threads", worker_count());
  o.Set("cudaCompiled", cuda.compiled);
  o.Set("cudaAvailable", cuda.available);
  if (cuda.available || !cuda.name.empty()) {
    o.Set("cudaDevice", cuda.name);
    o.Set("computeCapability", std::to_string(cuda.major) + "." + std::to_string(cuda.minor));
    o.Set("gpuMemoryBytes", (double)cuda.memory);
  }
  if (!cuda.available) o.Set("cudaReason", cuda.reason);
  return o;
}

Napi::Value SetBackend(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) fail("ZKDL_INVALID_ARGUMENT", "setBackend(mode): mode must be a string");
    gpu::set_mode(info[0].As<Napi::String>());
    return Backend(info);
  });
}

// keccak256 of each `row`-byte row of data, concatenated (n × 32 bytes), rows hashed in parallel.
Napi::Value Keccak256Rows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Uint8Array data = bytes_arg(info, 0, "data");
    if (info.Length() < 2 || !info[1].IsNumber()) fail("ZKDL_INVALID_ARGUMENT", "keccak256Rows(data, row): row must be a number");
    const int64_t row = info[1].As<Napi::Number>().Int64Value();
    if (row <= 0 || data.ByteLength() % size_t(row) != 0)
      fail("ZKDL_INVALID_ARGUMENT", "keccak256Rows(data, row): row must be positive and divide the data length");
    const size_t n = data.ByteLength() / size_t(row);
    Napi::Uint8Array out = output(info.Env(), 32 * n);
    const uint8_t* in = data.Data();
    uint8_t* hashes = out.Data();
    parallel_for(n, 4096, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) keccak256(in + i * size_t(row), size_t(row), hashes + 32 * i);
    });
    return out;
  });
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

Napi::Value Generators(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
      fail("ZKDL_INVALID_ARGUMENT", "generators(label, n): label must be a string and n a number");
    const std::string label = info[0].As<Napi::String>();
    const double n = info[1].As<Napi::Number>().DoubleValue();
    if (!(n >= 0) || n != (double)(size_t)n) fail("ZKDL_INVALID_ARGUMENT", "n must be a non-negative integer");
    const GeneratorSet set = generators(label, (size_t)n);
    Napi::Env env = info.Env();
    Napi::Uint8Array g = output(env, 64 * set.g.size()), h = output(env, 64), base = output(env, 64), id = output(env, 32);
    for (size_t i = 0; i < set.g.size(); ++i) set.g[i].to_bytes(g.Data() + 64 * i);
    set.h.to_bytes(h.Data());
    set.base.to_bytes(base.Data());
    generator_set_id(label, (size_t)n, id.Data());
    Napi::Object o = Napi::Object::New(env);
    o.Set("g", g);
    o.Set("h", h);
    o.Set("base", base);
    o.Set("id", id);
    return o;
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

/// Runs `work` on the libuv thread pool and settles a promise with the bytes it returns, or with a
/// coded error. `keep` holds the JS objects whose native data the work reads alive until it ends.
class BytesWorker : public Napi::AsyncWorker {
 public:
  BytesWorker(Napi::Env env, std::function<std::vector<uint8_t>()> work, Napi::Value keep)
      : Napi::AsyncWorker(env), work_(std::move(work)), keep_(Napi::Persistent(keep)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = work_();
    } catch (const InputError& e) {
      error_code_ = e.code();
      error_ = e.what();
    } catch (const std::bad_alloc&) {
      error_code_ = "ZKDL_OUT_OF_MEMORY";
      error_ = "out of memory";
    }
  }
  void OnOK() override {
    if (!error_code_.empty()) {
      deferred_.Reject(to_js(Env(), InputError(error_code_.c_str(), error_)).Value());
      return;
    }
    Napi::Uint8Array out = Napi::Uint8Array::New(Env(), result_.size());
    std::copy(result_.begin(), result_.end(), out.Data());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::function<std::vector<uint8_t>()> work_;
  Napi::Reference<Napi::Value> keep_;
  std::vector<uint8_t> result_;
  std::string error_code_, error_;
  Napi::Promise::Deferred deferred_;
};

/// Returns the bytes `work` produces: now, or (async) as a promise settled from the thread pool.
Napi::Value run_bytes(Napi::Env env, std::function<std::vector<uint8_t>()> work, Napi::Object keep, bool async) {
  if (async) {
    auto* worker = new BytesWorker(env, std::move(work), keep);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  }
  const std::vector<uint8_t> bytes = work();
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.Data());
  return out;
}

/// msm(points, scalars) → 64 bytes; msmAsync → a promise of them. Inputs are parsed (and rejected)
/// on the calling thread, so the pool job only computes.
Napi::Value msm_js(const Napi::CallbackInfo& info, bool async) {
  return guarded(info, [&]() -> Napi::Value {
    auto in = std::make_shared<MsmInput>(parse_msm(info));
    auto work = [in]() {
      std::vector<uint8_t> out(64);
      msm(in->points.data(), in->scalars.data(), in->points.size()).to_affine().to_bytes(out.data());
      return out;
    };
    return run_bytes(info.Env(), work, Napi::Object::New(info.Env()), async);
  });
}

Napi::Value Msm(const Napi::CallbackInfo& info) { return msm_js(info, false); }
Napi::Value MsmAsync(const Napi::CallbackInfo& info) { return msm_js(info, true); }

// ───────────── tensors: Fr data kept in native memory behind a handle ─────────────

std::vector<Fr> parse_fr_array(const Napi::Uint8Array& bytes, const char* name) {
  if (bytes.ByteLength() % 32 != 0) fail("ZKDL_INVALID_LENGTH", std::string(name) + " must be a multiple of 32 bytes");
  std::vector<Fr> out(bytes.ByteLength() / 32);
  for (size_t i = 0; i < out.size(); ++i) {
    try {
      out[i] = Fr::from_bytes(bytes.Data() + 32 * i);
    } catch (const InputError& e) {
      fail(e.code(), std::string(e.what()) + " (" + name + " element " + std::to_string(i) + ")");
    }
  }
  return out;
}

Fr parse_fr(const Napi::CallbackInfo& info, size_t i, const char* name) { return Fr::from_bytes(fixed_bytes_arg(info, i, name, 32).Data()); }

Napi::Uint8Array fr_bytes(Napi::Env env, const Fr& x) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 32);
  x.to_bytes(out.Data());
  return out;
}

/// A shape as "[2,3,4]" for error messages.
std::string shape_text(const std::vector<size_t>& shape) {
  std::string out = "[";
  for (size_t k = 0; k < shape.size(); ++k) out += (k ? "," : "") + std::to_string(shape[k]);
  return out + "]";
}

std::vector<size_t> parse_shape(const Napi::CallbackInfo& info, size_t i, size_t length) {
  if (info.Length() <= i || info[i].IsUndefined()) return {length};
  if (!info[i].IsArray()) fail("ZKDL_INVALID_ARGUMENT", "shape must be an array of positive integers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<size_t> shape;
  size_t product = 1;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value d = a.Get(k);
    double v = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 1) || v != (double)(size_t)v) fail("ZKDL_INVALID_ARGUMENT", "shape must be an array of positive integers");
    shape.push_back((size_t)v);
    product *= (size_t)v;
  }
  if (shape.empty() || product != length)
    fail("ZKDL_SHAPE_MISMATCH", "shape does not match the " + std::to_string(length) + " elements given");
  return shape;
}

/// Tensor data alive in native memory: the bytes each live tensor reported to V8 as external memory,
/// and the number of such tensors (tensorMemory()). Touched on the JS thread only.
int64_t live_tensor_bytes = 0;
int64_t live_tensors = 0;

/// A tensor's data behind a JS handle, its size reported to V8 (AdjustExternalMemory) while held so
/// the collector sees native memory grow. dispose() frees the data and this object at once and detaches
/// the handle (later use of it throws); otherwise the finalizer frees both after a GC. Node runs N-API
/// finalizers from the event loop only, never inside a synchronous loop, which is why a long
/// synchronous prover must dispose: undisposed handles would pile up, data and all, until it returns.
/// The buffer is shared with async jobs (commitRowsAsync), so disposing during one is safe.
class Tensor : public Napi::ObjectWrap<Tensor> {
 public:
  static Napi::FunctionReference constructor;

  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "Tensor",
                                     {InstanceMethod("shape", &Tensor::Shape), InstanceMethod("toBytes", &Tensor::ToBytes),
                                      InstanceMethod("toInts", &Tensor::ToInts), InstanceMethod("add", &Tensor::Add),
                                      InstanceMethod("sub", &Tensor::Sub), InstanceMethod("mul", &Tensor::Mul),
                                      InstanceMethod("scale", &Tensor::Scale), InstanceMethod("sum", &Tensor::Sum),
                                      InstanceMethod("innerProduct", &Tensor::InnerProduct), InstanceMethod("fold", &Tensor::Fold),
                                      InstanceMethod("evaluate", &Tensor::Evaluate), InstanceMethod("batchInverse", &Tensor::BatchInverse),
                                      InstanceMethod("matmul", &Tensor::Matmul), InstanceMethod("reshape", &Tensor::Reshape),
                                      InstanceMethod("dispose", &Tensor::Dispose)});
    constructor = Napi::Persistent(cls);
    constructor.SuppressDestruct();  // a static: its destructor would run at exit, after Node freed the env
    exports.Set("Tensor", cls);
  }

  explicit Tensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tensor>(info) {}

  static Napi::Object Make(Napi::Env env, std::vector<Fr>&& data, std::vector<size_t> shape) {
    auto buffer = std::make_shared<const FrVec>(std::move(data));
    Napi::Object obj = constructor.New({});
    Tensor* t = Unwrap(obj);
    t->data_ = std::move(buffer);
    t->shape_ = std::move(shape);
    t->bytes_ = int64_t(t->data_->size() * sizeof(Fr));
    live_tensor_bytes += t->bytes_;
    ++live_tensors;
    Napi::MemoryManagement::AdjustExternalMemory(env, t->bytes_);
    return obj;
  }

  /// The tensor behind a handle; throws ZKDL_DISPOSED for a disposed one (its wrap is gone).
  static const Tensor& Live(Napi::Object obj) {
    void* t = nullptr;
    if (napi_unwrap(obj.Env(), obj, &t) != napi_ok || t == nullptr)
      fail("ZKDL_DISPOSED", "the tensor was disposed: its native memory is freed (dispose() or the end of its tensorScope)");
    return *static_cast<Tensor*>(t);
  }
  /// The data of a live tensor (shared, so a pool job can hold it past a dispose).
  static const std::shared_ptr<const FrVec>& BufferOf(Napi::Object obj) { return Live(obj).buffer(); }
  static const FrVec& DataOf(Napi::Object obj) { return *BufferOf(obj); }
  static const std::vector<size_t>& ShapeOf(Napi::Object obj) { return Live(obj).shape(); }

  static const Tensor& From(const Napi::CallbackInfo& info, size_t i) {
    if (info.Length() <= i || !info[i].IsObject() || !info[i].As<Napi::Object>().InstanceOf(constructor.Value()))
      fail("ZKDL_INVALID_ARGUMENT", "argument " + std::to_string(i) + " must be a Tensor");
    return Live(info[i].As<Napi::Object>());
  }

  /// Called by node-addon-api after a GC collected the handle (from the event loop).
  void Finalize(Napi::BasicEnv env) { release(env); }

 private:
  std::shared_ptr<const FrVec> data_;  // null only for a bare `new Tensor()` from JS
  std::vector<size_t> shape_;
  int64_t bytes_ = 0;  // what this handle reported to V8

  void release(Napi::BasicEnv env) {
    if (!data_) return;
    data_.reset();
    live_tensor_bytes -= bytes_;
    --live_tensors;
    Napi::MemoryManagement::AdjustExternalMemory(env, -bytes_);
    bytes_ = 0;
  }

  const std::shared_ptr<const FrVec>& buffer() const {
    if (!data_) fail("ZKDL_INVALID_ARGUMENT", "a Tensor comes from tensorFromBytes, tensorFromInts or a tensor operation");
    return data_;
  }
  const FrVec& data() const { return *buffer(); }
  const std::vector<size_t>& shape() const {
    buffer();
    return shape_;
  }

  void same_shape(const Tensor& o) const {
    if (o.shape() != shape()) fail("ZKDL_SHAPE_MISMATCH", "tensor shapes differ");
  }

  /// Frees the data and this object now and detaches the handle: with the wrap removed no finalizer
  /// stays queued for it, so a synchronous loop that disposes leaves nothing behind. Any later call
  /// through the handle fails (napi_unwrap), as does passing it to another tensor (ZKDL_DISPOSED).
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    release(env);
    napi_remove_wrap(env, info.This(), nullptr);
    delete this;  // ~ObjectWrap deletes the wrap's reference; nothing touches `this` after this line
    return env.Undefined();
  }

  Napi::Value Shape(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const std::vector<size_t>& s = shape();
      Napi::Array a = Napi::Array::New(info.Env(), s.size());
      for (size_t k = 0; k < s.size(); ++k) a.Set((uint32_t)k, Napi::Number::New(info.Env(), (double)s[k]));
      return a;
    });
  }
  Napi::Value ToBytes(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const FrVec& d = data();
      Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), 32 * d.size());
      for (size_t i = 0; i < d.size(); ++i) d[i].to_bytes(out.Data() + 32 * i);
      return out;
    });
  }
  /// Signed integers: x > (r−1)/2 reads as x − r. Fails if a value does not fit in int64.
  Napi::Value ToInts(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const FrVec& d = data();
      Napi::BigInt64Array out = Napi::BigInt64Array::New(info.Env(), d.size());
      for (size_t i = 0; i < d.size(); ++i) {
        Fr x = d[i];
        u64 c[4], n[4];
        x.to_canonical(c);
        (-x).to_canonical(n);
        bool neg = !(c[1] == 0 && c[2] == 0 && c[3] == 0);
        const u64* m = neg ? n : c;
        if (m[1] || m[2] || m[3] || m[0] > (neg ? (1ULL << 63) : (1ULL << 63) - 1))
          fail("ZKDL_OUT_OF_RANGE", "element " + std::to_string(i) + " does not fit in a signed 64-bit integer");
        out[i] = neg ? (int64_t)(0 - m[0]) : (int64_t)m[0];
      }
      return out;
    });
  }
  template <class Op>
  Napi::Value Binary(const Napi::CallbackInfo& info, Op op) {
    return guarded(info, [&]() -> Napi::Value {
      const Tensor& o = From(info, 0);
      const FrVec &a = data(), &b = o.data();
      same_shape(o);
      return Make(info.Env(), op(a, b), shape_);
    });
  }
  Napi::Value Add(const Napi::CallbackInfo& info) { return Binary(info, [](const FrVec& a, const FrVec& b) { return add(a, b); }); }
  Napi::Value Sub(const Napi::CallbackInfo& info) { return Binary(info, [](const FrVec& a, const FrVec& b) { return sub(a, b); }); }
  Napi::Value Mul(const Napi::CallbackInfo& info) { return Binary(info, [](const FrVec& a, const FrVec& b) { return hadamard(a, b); }); }
  Napi::Value Scale(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value { return Make(info.Env(), scale(data(), parse_fr(info, 0, "scalar")), shape_); });
  }
  Napi::Value Sum(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value { return fr_bytes(info.Env(), sum(data())); });
  }
  Napi::Value InnerProduct(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const Tensor& o = From(info, 0);
      return fr_bytes(info.Env(), inner_product(data(), o.data()));
    });
  }
  Napi::Value Fold(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      FrVec out = fold(data(), parse_fr(info, 0, "challenge"));
      size_t n = out.size();
      return Make(info.Env(), std::move(out), {n});
    });
  }
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value { return fr_bytes(info.Env(), evaluate(data(), parse_fr_array(bytes_arg(info, 0, "point"), "point"))); });
  }
  Napi::Value BatchInverse(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value { return Make(info.Env(), batch_inverse(data()), shape_); });
  }
  /// (m×k)·(k×n) → [m, n]; with a batch of T on either side or both ([T, m, k], [T, k, n]) → [T, m, n],
  /// a 2-D operand standing for every batch entry (the protocols bind a vector against each step's matrix).
  Napi::Value Matmul(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const Tensor& o = From(info, 0);
      const FrVec &a = data(), &b = o.data();
      const std::vector<size_t> &sa = shape_, &sb = o.shape_;
      const bool a_batched = sa.size() == 3, b_batched = sb.size() == 3;
      const bool ranks = (sa.size() == 2 || a_batched) && (sb.size() == 2 || b_batched);
      if (!ranks || sa[sa.size() - 1] != sb[sb.size() - 2] || (a_batched && b_batched && sa[0] != sb[0]))
        fail("ZKDL_SHAPE_MISMATCH", "matmul needs (m×k)·(k×n) matrices, or a batch of them ([T,m,k] or [m,k] times [T,k,n] or [k,n]); got " +
                                        shape_text(sa) + "·" + shape_text(sb));
      const size_t m = sa[sa.size() - 2], k = sa[sa.size() - 1], n = sb[sb.size() - 1];
      if (!a_batched && !b_batched) return Make(info.Env(), matmul(a, b, m, k, n), {m, n});
      const size_t batch = a_batched ? sa[0] : sb[0];
      return Make(info.Env(), batched_matmul(a, b, batch, m, k, n, a_batched, b_batched), {batch, m, n});
    });
  }
  /// The same entries under another shape (a copy of the elements: no re-encoding).
  Napi::Value Reshape(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const FrVec& d = data();
      std::vector<size_t> shape = parse_shape(info, 0, d.size());
      return Make(info.Env(), FrVec(d), std::move(shape));
    });
  }
};

Napi::FunctionReference Tensor::constructor;

/// A point with its precomputed multiples (fixed_base.hpp): fixedBase(point) → FixedBase; .mul(scalar) → 64 bytes.
class FixedBaseJs : public Napi::ObjectWrap<FixedBaseJs> {
 public:
  static Napi::FunctionReference constructor;

  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "FixedBase", {InstanceMethod("mul", &FixedBaseJs::Mul)});
    constructor = Napi::Persistent(cls);
    constructor.SuppressDestruct();  // a static: its destructor would run at exit, after Node freed the env
    exports.Set("FixedBase", cls);
  }

  explicit FixedBaseJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FixedBaseJs>(info) {}

  static Napi::Value Make(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      const G1Affine base = G1Affine::from_bytes(fixed_bytes_arg(info, 0, "point", 64).Data());
      Napi::Object obj = constructor.New({});
      Unwrap(obj)->table_ = std::make_unique<FixedBase>(base);
      return obj;
    });
  }

 private:
  std::unique_ptr<FixedBase> table_;

  Napi::Value Mul(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      if (!table_) fail("ZKDL_INVALID_ARGUMENT", "a FixedBase comes from fixedBase(point)");
      u64 k[4];
      Fr::from_bytes(fixed_bytes_arg(info, 0, "scalar", 32).Data()).to_canonical(k);
      Napi::Uint8Array out = output(info.Env(), 64);
      table_->mul(k).to_affine().to_bytes(out.Data());
      return out;
    });
  }
};

Napi::FunctionReference FixedBaseJs::constructor;

Napi::Value TensorFromBytes(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::vector<Fr> data = parse_fr_array(bytes_arg(info, 0, "bytes"), "bytes");
    std::vector<size_t> shape = parse_shape(info, 1, data.size());
    return Tensor::Make(info.Env(), std::move(data), std::move(shape));
  });
}

/// Signed integers (Int32Array or BigInt64Array) into Fr, negatives as r − |v|.
Napi::Value TensorFromInts(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsTypedArray()) fail("ZKDL_INVALID_ARGUMENT", "values must be an Int32Array or a BigInt64Array");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    std::vector<Fr> data(ta.ElementLength());
    auto from_signed = [](int64_t v) { return v < 0 ? -Fr::from_u64(0 - (u64)v) : Fr::from_u64((u64)v); };
    if (ta.TypedArrayType() == napi_int32_array) {
      Napi::Int32Array a = info[0].As<Napi::Int32Array>();
      for (size_t i = 0; i < data.size(); ++i) data[i] = from_signed(a[i]);
    } else if (ta.TypedArrayType() == napi_bigint64_array) {
      Napi::BigInt64Array a = info[0].As<Napi::BigInt64Array>();
      for (size_t i = 0; i < data.size(); ++i) data[i] = from_signed(a[i]);
    } else {
      fail("ZKDL_INVALID_ARGUMENT", "values must be an Int32Array or a BigInt64Array");
    }
    std::vector<size_t> shape = parse_shape(info, 1, data.size());
    return Tensor::Make(info.Env(), std::move(data), std::move(shape));
  });
}

std::vector<G1Affine> parse_points(const Napi::Uint8Array& bytes, const char* name) {
  if (bytes.ByteLength() % 64 != 0) fail("ZKDL_INVALID_LENGTH", std::string(name) + " must be a multiple of 64 bytes");
  std::vector<G1Affine> out;
  out.reserve(bytes.ByteLength() / 64);
  for (size_t i = 0; i < bytes.ByteLength() / 64; ++i) {
    try {
      out.push_back(G1Affine::from_bytes(bytes.Data() + 64 * i));
    } catch (const InputError& e) {
      fail(e.code(), std::string(e.what()) + " (" + name + " point " + std::to_string(i) + ")");
    }
  }
  return out;
}

/// hyraxCommit(tensor [rows, cols], generators cols×64, h 64, blindings rows×32) → rows×64 bytes.
/// hyraxCommit(tensor, generators, h, blindings[, async]) → rows×64 bytes (or a promise of them).
Napi::Value HyraxCommit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Tensor::constructor.Value()))
      fail("ZKDL_INVALID_ARGUMENT", "argument 0 must be a Tensor");
    Napi::Object obj = info[0].As<Napi::Object>();
    const std::vector<size_t> shape = Tensor::ShapeOf(obj);
    if (shape.size() != 2) fail("ZKDL_SHAPE_MISMATCH", "a Hyrax commitment takes a rows×cols tensor");
    auto generators = std::make_shared<std::vector<G1Affine>>(parse_points(bytes_arg(info, 1, "generators"), "generators"));
    const G1Affine h = G1Affine::from_bytes(fixed_bytes_arg(info, 2, "h", 64).Data());
    auto blindings = std::make_shared<std::vector<Fr>>(parse_fr_array(bytes_arg(info, 3, "blindings"), "blindings"));
    const std::shared_ptr<const FrVec> data = Tensor::BufferOf(obj);  // alive until the job ends, even if disposed
    auto work = [=]() {
      std::vector<G1> rows = hyrax_commit_rows(*data, shape[0], shape[1], *generators, h, *blindings);
      std::vector<G1Affine> affine(rows.size());
      G1::batch_to_affine(rows.data(), rows.size(), affine.data());
      std::vector<uint8_t> out(64 * rows.size());
      for (size_t j = 0; j < rows.size(); ++j) affine[j].to_bytes(out.data() + 64 * j);
      return out;
    };
    return run_bytes(info.Env(), work, obj, info.Length() > 4 && info[4].ToBoolean());
  });
}

/// Tensor arguments of one call: each one's data, held (shared) until the call returns, so that JS
/// run while the others are read (an array element's getter, a Symbol.hasInstance) cannot free it by
/// disposing its tensor. `what` names the argument in the error.
class HeldTensors {
 public:
  const FrVec* add(Napi::Value v, const std::string& what) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Tensor::constructor.Value())) fail("ZKDL_INVALID_ARGUMENT", what + " is not a Tensor");
    held_.push_back(Tensor::BufferOf(v.As<Napi::Object>()));
    return held_.back().get();
  }

 private:
  std::vector<std::shared_ptr<const FrVec>> held_;
};

/// A JS array of new flat tensors, one per vector, in order.
static Napi::Value tensor_list(Napi::Env env, std::vector<FrVec>&& vectors) {
  Napi::Array out = Napi::Array::New(env, vectors.size());
  for (uint32_t k = 0; k < vectors.size(); ++k) {
    const size_t n = vectors[k].size();
    out.Set(k, Tensor::Make(env, std::move(vectors[k]), {n}));
  }
  return out;
}

/// sumcheckRound([t1, …, tD]) → (D+1)×32 bytes: s(0), …, s(D).
Napi::Value SumcheckRound(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArray()) fail("ZKDL_INVALID_ARGUMENT", "sumcheckRound takes an array of Tensors");
    Napi::Array arr = info[0].As<Napi::Array>();
    HeldTensors held;
    std::vector<const FrVec*> factors;
    for (uint32_t k = 0; k < arr.Length(); ++k) factors.push_back(held.add(arr.Get(k), "factor " + std::to_string(k)));
    FrVec s = sumcheck_round(factors);
    Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), 32 * s.size());
    for (size_t t = 0; t < s.size(); ++t) s[t].to_bytes(out.Data() + 32 * t);
    return out;
  });
}

Napi::Value EqVector(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    FrVec out = eq_vector(parse_fr_array(bytes_arg(info, 0, "point"), "point"));
    size_t n = out.size();
    return Tensor::Make(info.Env(), std::move(out), {n});
  });
}

/// tensorConcat([t1, …, tk]) → the flat concatenation (t1's entries first): stacks same-shaped
/// tensors along new high variables without copying them through JavaScript.
Napi::Value TensorConcat(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArray()) fail("ZKDL_INVALID_ARGUMENT", "tensorConcat takes an array of Tensors");
    Napi::Array arr = info[0].As<Napi::Array>();
    HeldTensors held;
    std::vector<const FrVec*> parts;
    size_t total = 0;
    for (uint32_t k = 0; k < arr.Length(); ++k) {
      parts.push_back(held.add(arr.Get(k), "part " + std::to_string(k)));
      total += parts.back()->size();
    }
    if (parts.empty()) fail("ZKDL_INVALID_ARGUMENT", "tensorConcat of no tensors");
    FrVec out;
    out.reserve(total);
    for (const FrVec* p : parts) out.insert(out.end(), p->begin(), p->end());
    return Tensor::Make(info.Env(), std::move(out), {total});
  });
}

/// fractionLeaves(values[], numerators[] (Tensor or null), β, length) → [p, q]: a GKR tree's leaves (tensor.hpp).
Napi::Value FractionLeaves(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsArray() || !info[3].IsNumber())
      fail("ZKDL_INVALID_ARGUMENT", "fractionLeaves takes (Tensor[], (Tensor | null)[], β, length)");
    Napi::Array vs = info[0].As<Napi::Array>(), ns = info[1].As<Napi::Array>();
    std::vector<const FrVec*> values, numerators;
    HeldTensors held;
    for (uint32_t k = 0; k < vs.Length(); ++k) values.push_back(held.add(vs.Get(k), "block " + std::to_string(k)));
    for (uint32_t k = 0; k < ns.Length(); ++k) {
      Napi::Value v = ns.Get(k);
      numerators.push_back(v.IsNull() || v.IsUndefined() ? nullptr : held.add(v, "numerator " + std::to_string(k)));
    }
    const double length = info[3].As<Napi::Number>().DoubleValue();
    if (!(length >= 0 && length <= double(size_t(1) << 34) && length == double(size_t(length)))) fail("ZKDL_INVALID_ARGUMENT", "length must be a whole number of entries");
    std::vector<FrVec> out(2);
    fraction_leaves(values, numerators, parse_fr(info, 2, "beta"), size_t(length), out[0], out[1]);
    return tensor_list(info.Env(), std::move(out));
  });
}

/// fractionLayer(p, q) → [p', q']: one layer up a GKR tree of fractions (tensor.hpp).
Napi::Value FractionLayer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    HeldTensors held;
    const FrVec *p = held.add(info[0], "p"), *q = held.add(info[1], "q");
    std::vector<FrVec> out(2);
    fraction_layer(*p, *q, out[0], out[1]);
    return tensor_list(info.Env(), std::move(out));
  });
}

/// gkrFactors(p, q, λ) → [pE + λ·qE, qO, pO, qE]: a GKR layer sumcheck's factors (tensor.hpp).
Napi::Value GkrFactors(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    HeldTensors held;
    const FrVec *p = held.add(info[0], "p"), *q = held.add(info[1], "q");
    std::vector<FrVec> out(4);
    gkr_factors(*p, *q, parse_fr(info, 2, "lambda"), out.data());
    return tensor_list(info.Env(), std::move(out));
  });
}

/// tensorMemory() → { tensors, bytes }: the live tensors and the data bytes they report to V8.
Napi::Value TensorMemory(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("tensors", Napi::Number::New(info.Env(), (double)live_tensors));
  o.Set("bytes", Napi::Number::New(info.Env(), (double)live_tensor_bytes));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("backend", Napi::Function::New(env, Backend));
  exports.Set("setBackend", Napi::Function::New(env, SetBackend));
  exports.Set("generators", Napi::Function::New(env, Generators));
  exports.Set("keccak256", Napi::Function::New(env, Keccak256));
  exports.Set("keccak256Rows", Napi::Function::New(env, Keccak256Rows));
  exports.Set("g1Add", Napi::Function::New(env, G1AddJs));
  exports.Set("g1Mul", Napi::Function::New(env, G1MulJs));
  FixedBaseJs::Init(env, exports);
  exports.Set("fixedBase", Napi::Function::New(env, FixedBaseJs::Make));
  exports.Set("hashToG1", Napi::Function::New(env, HashToG1));
  exports.Set("fieldOp", Napi::Function::New(env, FieldOp));
  exports.Set("msm", Napi::Function::New(env, Msm));
  exports.Set("msmAsync", Napi::Function::New(env, MsmAsync));
  Tensor::Init(env, exports);
  exports.Set("tensorFromBytes", Napi::Function::New(env, TensorFromBytes));
  exports.Set("tensorFromInts", Napi::Function::New(env, TensorFromInts));
  exports.Set("eqVector", Napi::Function::New(env, EqVector));
  exports.Set("sumcheckRound", Napi::Function::New(env, SumcheckRound));
  exports.Set("tensorConcat", Napi::Function::New(env, TensorConcat));
  exports.Set("fractionLeaves", Napi::Function::New(env, FractionLeaves));
  exports.Set("fractionLayer", Napi::Function::New(env, FractionLayer));
  exports.Set("gkrFactors", Napi::Function::New(env, GkrFactors));
  exports.Set("hyraxCommit", Napi::Function::New(env, HyraxCommit));
  exports.Set("tensorMemory", Napi::Function::New(env, TensorMemory));
  return exports;
}

}  // namespace

NODE_API_MODULE(zkdl_native, Init)
