# The Python module (python/): built when pybind11 and a Python interpreter with its development files are found.
# The interpreter is Debian's /usr/bin/python3 unless -DPython_EXECUTABLE=... says otherwise (a python3 earlier on PATH,
# e.g. from pyenv, may lack numpy). Not with the sanitizers: an ASan-instrumented module cannot be loaded by a plain
# interpreter.
set(widenn_python_default OFF)
if(PROJECT_IS_TOP_LEVEL AND NOT WIDENN_SANITIZE)
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python 3.8 QUIET COMPONENTS Interpreter Development.Module)
  if(Python_FOUND)
    set(PYBIND11_FINDPYTHON ON)
    find_package(pybind11 2.6 CONFIG QUIET)
    if(pybind11_FOUND)
      set(widenn_python_default ON)
    endif()
  endif()
endif()
option(WIDENN_BUILD_PYTHON "Build the Python module widenn (pybind11)" ${widenn_python_default})
if(WIDENN_BUILD_PYTHON AND NOT widenn_python_default)
  if(WIDENN_SANITIZE)
    message(FATAL_ERROR "WIDENN_BUILD_PYTHON cannot be combined with WIDENN_SANITIZE (the interpreter would have to preload ASan)")
  endif()
  message(FATAL_ERROR "WIDENN_BUILD_PYTHON needs pybind11 and Python 3 with its headers "
                      "(Debian: apt-get install pybind11-dev python3-dev python3-numpy)")
endif()
