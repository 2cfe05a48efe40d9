# A .note.gnu.property (NT_GNU_PROPERTY_TYPE_0) whose GNU_PROPERTY_X86_ISA_1_NEEDED has bit 4
# set: a level above x86-64-v4 that no CPU has, so glibc >= 2.33 refuses it on every host.
	.section .note.gnu.property,"a",@note
	.p2align 3
	.long 4
	.long 16
	.long 5
	.asciz "GNU"
	.long 0xc0008002
	.long 4
	.long 0x10
	.p2align 3
	.section .note.GNU-stack,"",@progbits
