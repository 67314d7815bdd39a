#pragma once
// Umbrella header: everything public in widenn.
#include "core/concepts.hpp"
#include "core/errors.hpp"
#include "core/rational.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "act/activations.hpp"
#include "act/dual.hpp"
#include "param/abc.hpp"
#include "param/classify.hpp"
#include "lie/lie.hpp"
