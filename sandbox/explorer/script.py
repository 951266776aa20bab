"""Script disassembly in rust-bitcoin's notation, as Esplora's `*_asm` fields show it."""

from __future__ import annotations

_NAMES = {
    0x00: "OP_0",
    0x4F: "OP_PUSHNUM_NEG1",
    0x50: "OP_RESERVED",
    0x61: "OP_NOP",
    0x62: "OP_VER",
    0x63: "OP_IF",
    0x64: "OP_NOTIF",
    0x65: "OP_VERIF",
    0x66: "OP_VERNOTIF",
    0x67: "OP_ELSE",
    0x68: "OP_ENDIF",
    0x69: "OP_VERIFY",
    0x6A: "OP_RETURN",
    0x6B: "OP_TOALTSTACK",
    0x6C: "OP_FROMALTSTACK",
    0x6D: "OP_2DROP",
    0x6E: "OP_2DUP",
    0x6F: "OP_3DUP",
    0x70: "OP_2OVER",
    0x71: "OP_2ROT",
    0x72: "OP_2SWAP",
    0x73: "OP_IFDUP",
    0x74: "OP_DEPTH",
    0x75: "OP_DROP",
    0x76: "OP_DUP",
    0x77: "OP_NIP",
    0x78: "OP_OVER",
    0x79: "OP_PICK",
    0x7A: "OP_ROLL",
    0x7B: "OP_ROT",
    0x7C: "OP_SWAP",
    0x7D: "OP_TUCK",
    0x7E: "OP_CAT",
    0x7F: "OP_SUBSTR",
    0x80: "OP_LEFT",
    0x81: "OP_RIGHT",
    0x82: "OP_SIZE",
    0x83: "OP_INVERT",
    0x84: "OP_AND",
    0x85: "OP_OR",
    0x86: "OP_XOR",
    0x87: "OP_EQUAL",
    0x88: "OP_EQUALVERIFY",
    0x89: "OP_RESERVED1",
    0x8A: "OP_RESERVED2",
    0x8B: "OP_1ADD",
    0x8C: "OP_1SUB",
    0x8D: "OP_2MUL",
    0x8E: "OP_2DIV",
    0x8F: "OP_NEGATE",
    0x90: "OP_ABS",
    0x91: "OP_NOT",
    0x92: "OP_0NOTEQUAL",
    0x93: "OP_ADD",
    0x94: "OP_SUB",
    0x95: "OP_MUL",
    0x96: "OP_DIV",
    0x97: "OP_MOD",
    0x98: "OP_LSHIFT",
    0x99: "OP_RSHIFT",
    0x9A: "OP_BOOLAND",
    0x9B: "OP_BOOLOR",
    0x9C: "OP_NUMEQUAL",
    0x9D: "OP_NUMEQUALVERIFY",
    0x9E: "OP_NUMNOTEQUAL",
    0x9F: "OP_LESSTHAN",
    0xA0: "OP_GREATERTHAN",
    0xA1: "OP_LESSTHANOREQUAL",
    0xA2: "OP_GREATERTHANOREQUAL",
    0xA3: "OP_MIN",
    0xA4: "OP_MAX",
    0xA5: "OP_WITHIN",
    0xA6: "OP_RIPEMD160",
    0xA7: "OP_SHA1",
    0xA8: "OP_SHA256",
    0xA9: "OP_HASH160",
    0xAA: "OP_HASH256",
    0xAB: "OP_CODESEPARATOR",
    0xAC: "OP_CHECKSIG",
    0xAD: "OP_CHECKSIGVERIFY",
    0xAE: "OP_CHECKMULTISIG",
    0xAF: "OP_CHECKMULTISIGVERIFY",
    0xB0: "OP_NOP1",
    0xB1: "OP_CLTV",
    0xB2: "OP_CSV",
    0xBA: "OP_CHECKSIGADD",
    0xFF: "OP_INVALIDOPCODE",
}
_NAMES.update({0x50 + n: f"OP_PUSHNUM_{n}" for n in range(1, 17)})
_NAMES.update({op: f"OP_NOP{op - 0xB0 + 1}" for op in range(0xB3, 0xBA)})
_NAMES.update({op: f"OP_RETURN_{op}" for op in range(0xBB, 0xFF)})
_PUSHDATA = {0x4C: ("OP_PUSHDATA1", 1), 0x4D: ("OP_PUSHDATA2", 2), 0x4E: ("OP_PUSHDATA4", 4)}


def asm(script: bytes) -> str:
    """Disassemble a script: `OP_0 OP_PUSHBYTES_20 <hex>`, as rust-bitcoin prints it."""
    n = len(script)
    # The standard output scripts, which are nearly all of them, without the general loop.
    if n == 22 and script[:2] == b"\x00\x14":
        return "OP_0 OP_PUSHBYTES_20 " + script[2:].hex()
    if n == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return f"OP_HASH160 OP_PUSHBYTES_20 {script[2:22].hex()} OP_EQUAL"
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return f"OP_DUP OP_HASH160 OP_PUSHBYTES_20 {script[3:23].hex()} OP_EQUALVERIFY OP_CHECKSIG"
    return _disassemble(script)


def _disassemble(script: bytes) -> str:
    """The general disassembler."""
    parts = []
    pos, n = 0, len(script)
    while pos < n:
        op = script[pos]
        pos += 1
        if 0x01 <= op <= 0x4B:
            name, size = f"OP_PUSHBYTES_{op}", op
        elif op in _PUSHDATA:
            name, width = _PUSHDATA[op]
            if pos + width > n:
                parts.append("<unexpected end>")
                break
            size = int.from_bytes(script[pos : pos + width], "little")
            pos += width
        else:
            parts.append(_NAMES[op])
            continue
        if pos + size > n:
            parts.append("<push past end>")
            break
        parts.append(f"{name} {script[pos : pos + size].hex()}" if size else name)
        pos += size
    return " ".join(parts)
