/*
 * syscalls.c: newlib(-nano) retargeted to the board. stdout/stderr write to UART0 (with
 * "\n" sent as "\r\n", as serial terminals expect), stdin reads from it, and the heap grows
 * from the end of .bss up to the stack reserve set in the linker script. There is no file
 * system: every other call fails with the errno newlib expects.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "tinyml_board.h"

#undef errno
extern int errno;

extern char end;           /* first byte after .bss (linker script) */
extern char __heap_limit;  /* top of RAM minus the stack reserve */

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    for (int i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            board_putc('\r');
        }
        board_putc(buf[i]);
    }
    return len;
}

int _read(int fd, char *buf, int len)
{
    if (fd != 0) {
        errno = EBADF;
        return -1;
    }
    if (len <= 0) {
        return 0;
    }
    int c;
    while ((c = board_getc()) < 0) {
    }
    buf[0] = (char)c;
    return 1;
}

void *_sbrk(ptrdiff_t increment)
{
    static char *brk = &end;
    char *previous = brk;
    if (brk + increment > &__heap_limit || brk + increment < &end) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += increment;
    return previous;
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    if (fd < 0 || fd > 2) {
        errno = EBADF;
        return -1;
    }
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _open(const char *path, int flags, int mode)
{
    (void)path;
    (void)flags;
    (void)mode;
    errno = ENOENT;
    return -1;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

void _exit(int status)
{
    board_exit(status);
}
