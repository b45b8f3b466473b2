// data/placeholder.cpp — keeps the library non-empty until its first real source lands.
namespace mhr {}
