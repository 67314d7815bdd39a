#pragma once
// Umbrella header: the library, in dependency order (core -> param, act -> nn, learn, limit, lie -> equivariant,
// geometry). io/ (files, gnuplot, datasets) is not part of it: include <widenn/io/...> where a program reads or writes files.
#include "core/blas.hpp"
#include "core/concepts.hpp"
#include "core/errors.hpp"
#include "core/parallel.hpp"
#include "core/rational.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"

#include "param/abc.hpp"
#include "param/classify.hpp"

#include "act/activations.hpp"
#include "act/depth_optimal.hpp"
#include "act/dual.hpp"
#include "act/xtensor.hpp"

#include "nn/coord_check.hpp"
#include "nn/linear.hpp"
#include "nn/layers.hpp"
#include "nn/loss.hpp"
#include "nn/mlp.hpp"
#include "nn/network.hpp"
#include "nn/ntk.hpp"
#include "nn/optim.hpp"
#include "nn/scaling.hpp"
#include "nn/schedule.hpp"
#include "nn/serial.hpp"
#include "nn/spec.hpp"
#include "nn/subspace.hpp"
#include "nn/train.hpp"
#include "nn/trainable.hpp"

#include "learn/halfspace.hpp"

#include "limit/depth.hpp"
#include "limit/feature_learning.hpp"
#include "limit/kernel.hpp"
#include "limit/conv_kernel.hpp"
#include "limit/of.hpp"
#include "limit/pcg.hpp"
#include "limit/predict.hpp"
#include "limit/solvers.hpp"

#include "lie/lie.hpp"

#include "equivariant/conv.hpp"
#include "equivariant/equivariance.hpp"
#include "equivariant/group_conv.hpp"
#include "equivariant/groups.hpp"
#include "equivariant/model.hpp"
#include "equivariant/ops.hpp"
#include "equivariant/siren.hpp"

#include "geometry/abstraction.hpp"
#include "geometry/cka.hpp"
#include "geometry/common.hpp"
#include "geometry/frechet.hpp"
#include "geometry/relative.hpp"
#include "geometry/rsa.hpp"

