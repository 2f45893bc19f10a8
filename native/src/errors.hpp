// Input errors raised by the core; the binding turns them into JavaScript errors carrying `code`.
#pragma once
#include <stdexcept>
#include <string>

namespace zkdl {

class InputError : public std::invalid_argument {
 public:
  InputError(const char* code, const std::string& message) : std::invalid_argument(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

}  // namespace zkdl
