# `cpack -G DEB` in the build folder makes vitscope_<version>_<arch>.deb for Debian 12
# (docs/PACKAGING.md). Depends come from dpkg-shlibdeps on the installed programs (LibTorch,
# Qt 6, QCustomPlot, OpenCV, …), plus what is loaded at run time and so invisible to it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vitscope)
set(CPACK_PACKAGE_VENDOR "ViTScope")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "see what self-supervised Vision Transformers learn")
# The summary above is the first line of the package description; this is the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "ViTScope shows contrastive (MoCo v3, DINO), masked-image-modeling (MAE,
SimMIM) and hybrid Vision Transformers side by side: attention per layer,
head and query patch, masked reconstructions, feature spectra and
shape-versus-texture probes, with guided lessons, a presentation mode and
session files. vitscope-cli runs every analysis headless. Small bundled
models and sample photos are included.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ViTScope maintainers <vitscope@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded at run time, so dpkg-shlibdeps cannot see them: the fonts Qt draws with, and a fast
# BLAS behind Debian's LibTorch (the reference BLAS it NEEDs is ~30x slower).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread")
# The package needs only the two programs: `ninja vitscope vitscope-cli && cpack` then works
# without building the tests and benchmarks.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)
