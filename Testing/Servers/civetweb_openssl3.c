/* LD_PRELOAD shim for Orthanc's HTTPS in the tests: Debian's civetweb 1.15 loads OpenSSL with dlopen and
 * looks up SSL_get_peer_certificate, which OpenSSL 3 no longer exports (it became a macro for
 * SSL_get1_peer_certificate, same behaviour: a new reference). The lookup yields NULL and the first
 * HTTPS connection crashes Orthanc (SIGSEGV in a civetweb worker). This shim answers that one lookup
 * with SSL_get1_peer_certificate; every other dlsym call is passed on unchanged.
 * Preload it AFTER loopback_bind.so, so that dlsym(RTLD_NEXT, ...) there still finds libc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

typedef void *(*dlsym_function)(void *, const char *);

void *dlsym(void *handle, const char *name) {
    static dlsym_function real_dlsym;
    if (!real_dlsym) {
        real_dlsym = (dlsym_function)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
        if (!real_dlsym) {
            real_dlsym = (dlsym_function)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
        }
    }
    if (strcmp(name, "SSL_get_peer_certificate") == 0) {
        void *found = real_dlsym(handle, name);
        return found ? found : real_dlsym(handle, "SSL_get1_peer_certificate");
    }
    return real_dlsym(handle, name);
}
