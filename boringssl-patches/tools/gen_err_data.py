#!/usr/bin/env python3
"""A port of BoringSSL's util/pregenerate/err_data.go: writes gen/crypto/err_data.cc from
crypto/err/*.errordata (sorted, as Go's filepath.Glob returns them). Run in the tree's top."""
import glob, re, sys
go = open('util/pregenerate/err_data.go').read()
libs = re.search(r'var libraryNames = \[\]string\{(.*?)\}', go, re.S).group(1)
libs = re.findall(r'"(\w+)"', libs)
header = re.search(r'out.WriteString\(`(// Copyright.*?)`\)', go, re.S).group(1)
libmap = {n: i + 1 for i, n in enumerate(libs)}
entries, interned, data = [], {}, bytearray()
for fn in sorted(glob.glob('crypto/err/*.errordata')):
    for line in open(fn, 'rb').read().split(b'\n'):
        if not line:
            continue
        lib, key, value = line.split(b',')
        key = libmap[lib.decode()] << 26 | int(key) << 15
        if value not in interned:
            interned[value] = len(data)
            data += value + b'\0'
        assert all(e >> 15 != key >> 15 for e in entries)
        entries.append(key | interned[value])
entries.sort(key=lambda e: e >> 15)
out = [header]
for i, n in enumerate(libs):
    out.append('static_assert(ERR_LIB_%s == %d, "library value changed");\n' % (n, i + 1))
out.append('static_assert(ERR_NUM_LIBS == %d, "number of libraries changed");\n' % (len(libs) + 1))
out.append('\n')
v = 'kOpenSSLReasonValues'
out.append('extern const uint32_t %s[];\nconst uint32_t %s[] = {\n' % (v, v))
out += ['    0x%x,\n' % e for e in entries]
out.append('};\n\n')
out.append('extern const size_t %sLen;\nconst size_t %sLen = sizeof(%s) / sizeof(%s[0]);\n\n' % (v, v, v, v))
sd = 'kOpenSSLReasonStringData'
s = 'extern const char %s[];\nconst char %s[] =\n    "' % (sd, sd)
s += data.decode().replace('\0', '\\0"\n    "')
s += '";\n\n'
out.append(s)
out.append('\nBSSL_NAMESPACE_END\n')
open('gen/crypto/err_data.cc', 'w').write(''.join(out))
