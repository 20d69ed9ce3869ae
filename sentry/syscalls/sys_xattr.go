package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// xattrSyscalls: no filesystem in the sandbox stores extended attributes
// yet, so each call fails as on a filesystem without xattr support.
var xattrSyscalls = map[uintptr]kernel.Syscall{
	188: {Name: "setxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	189: {Name: "lsetxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	190: {Name: "fsetxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	191: {Name: "getxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	192: {Name: "lgetxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	193: {Name: "fgetxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	194: {Name: "listxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	195: {Name: "llistxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	196: {Name: "flistxattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	197: {Name: "removexattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	198: {Name: "lremovexattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
	199: {Name: "fremovexattr", Support: kernel.SupportPartial, Errno: errno.EOPNOTSUPP, Note: "No filesystem supports xattrs yet."},
}
