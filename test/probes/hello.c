/* The smallest guest: one write(2) and exit_group(2), no stdio. */
#include <unistd.h>

int main(void)
{
	static const char msg[] = "hello, world\n";
	if (write(1, msg, sizeof msg - 1) != sizeof msg - 1)
		_exit(1);
	_exit(0);
}
