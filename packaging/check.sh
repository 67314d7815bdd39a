#!/usr/bin/env bash
# What can be checked of the vcpkg port and the conan recipe without vcpkg or conan (neither runs here):
# the manifests parse, their versions match CMake's, and an install has the layout the portfile relies on.
# Usage: packaging/check.sh INSTALL_PREFIX
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:?usage: packaging/check.sh INSTALL_PREFIX}
version=$(sed -n 's/^project(widenn VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
fail() { echo "packaging check failed: $*" >&2; exit 1; }

python3 - "$root" "$version" <<'PY'
import ast, json, sys, pathlib
root, version = pathlib.Path(sys.argv[1]), sys.argv[2]
manifest = json.loads((root / "packaging/vcpkg/widenn/vcpkg.json").read_text())
assert manifest["name"] == "widenn", "vcpkg.json: name"
assert manifest["version"] == version, f"vcpkg.json version {manifest['version']} != CMake {version}"
for recipe in ("packaging/conan/conanfile.py", "packaging/conan/test_package/conanfile.py"):
    ast.parse((root / recipe).read_text(), recipe)
tree = ast.parse((root / "packaging/conan/conanfile.py").read_text())
fields = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
          for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
assert fields.get("package_type") == "header-library", "conanfile.py: package_type must be header-library"
assert fields.get("version") == version, f"conanfile.py version {fields.get('version')} != CMake {version}"
print(f"vcpkg.json and conanfile.py parse; version {version} everywhere; package_type header-library")
PY

# The portfile runs vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/widenn) and installs LICENSE as copyright.
for f in include/widenn/widenn.hpp share/cmake/widenn/widennConfig.cmake share/cmake/widenn/widennConfigVersion.cmake \
         share/cmake/widenn/widennTargets.cmake share/cmake/widenn/widenn_dependencies.cmake share/doc/widenn/LICENSE; do
  [[ -f "$prefix/$f" ]] || fail "the install lacks $f"
done
if ! grep -A1 'requested no architecture check' "$prefix/share/cmake/widenn/widennConfigVersion.cmake" | grep -q 'if("TRUE")'; then
  fail "widennConfigVersion.cmake checks the pointer size: it must be ARCH_INDEPENDENT for a header-only package"
fi
[[ -z "$(find "$prefix" -name '*.a' -o -name '*.so')" ]] || fail "a header-only install must not contain libraries"
echo "install layout matches what packaging/vcpkg/widenn/portfile.cmake relies on"
