#include <git2.h>

/* git_libgit2_opts is variadic, which Swift cannot call: one fixed-argument wrapper per option used. */
static inline int provisio_git_set_cache_max_size(long long bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)bytes);
}
