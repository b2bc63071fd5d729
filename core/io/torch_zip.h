#pragma once
// torch.save zip files (checkpoints.md §4.2): `<top>/data.pkl` holds the object graph and each
// storage is the raw little-endian record `<top>/data/<key>`. The top folder is whatever the
// file was called when saved, so it is found, never derived from the current name.
#include <string>

#include "core/io/bytes.h"
#include "core/io/pickle.h"

namespace vitscope::io {

// Unpickles data.pkl of a torch.save zip. Tensors are views into `bytes` (every storage is read
// once and shared by the tensors that view it). Refuses TorchScript archives (§4.4).
// Throws FormatError.
pickle::Unpickled read_torch_zip(const std::string& path, FileBytes bytes);

}  // namespace vitscope::io
