# A .note.ABI-tag (NT_GNU_ABI_TAG) that asks for Linux 9.0.0, as glibc's csu/abi-note.S writes
# the real one: namesz 4, descsz 16, type 1, "GNU", then OS 0 (Linux), major, minor, patch.
	.section .note.ABI-tag,"a",@note
	.p2align 2
	.long 4
	.long 16
	.long 1
	.asciz "GNU"
	.long 0, 9, 0, 0
	.section .note.GNU-stack,"",@progbits
