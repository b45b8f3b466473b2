// tests/runtime/pch_host.cpp — owns the precompiled LibTorch header that every runtime test reuses. Test
// executables are compiled as position-independent executables (-fPIE) while the runtime library is compiled
// -fPIC, and GCC refuses a precompiled header made with the other flag; an executable's header fits them all.
int main() {
  return 0;
}
