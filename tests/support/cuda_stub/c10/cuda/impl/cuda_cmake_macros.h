#pragma once
// Empty: a CPU LibTorch ships c10/cuda headers without this generated one (see ../../../cuda_runtime_api.h).
