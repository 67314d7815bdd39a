#pragma once
// Lie groups for equivariant networks: everything in widenn/lie/.
#include "affine.hpp"
#include "gl_plus.hpp"
#include "group.hpp"
#include "haar.hpp"
#include "image.hpp"
#include "matfun.hpp"
#include "matrix.hpp"
#include "so.hpp"
#include "spd.hpp"
#include "xtensor.hpp"
