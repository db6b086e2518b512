# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# distutils: libraries = crypto
"""The SHA-256 work of signing and verifying, compiled: trees for the relay, batch-mates for
the consumer. Built by ``python -m casesync.trust._native`` (``make setup``); used when present.

``signed_tree`` gives a tree's signature headers as ``casesync.trust.signing`` makes them:
``build_joined_tree`` over SHA-256 leaf hashes, then ``signature_headers``. It hashes each leaf
straight from the record's fields, never joining them into a leaf first (the join alone cost
the relay about half a microsecond a record in Python).

``settle`` proves batch-mates, a run of records at a time: a record whose leaf, hashed with
SHA-256 from its own key, value and headers, folds along its whole path to the root whose
signature held for its batch part, of a batch that passed every check under the manifest in
force. Python accepts such a record too (``Verifier._batch_mate``, else ``Verifier.verify``
with that root among its signed roots). Anything else (another suite, a malformed header, a
batch not seen yet, a path that does not reach the root) stops the run at that record and
Python decides it; so this never accepts what the Python checks refuse. A record's path is
folded until it joins the path of the record proved before it (kept in C, see ``_Fold``), then
compared with the rest of that path: in a tree of 256 read in order, about two hashes a record
instead of eight (1.3 µs a record instead of 1.9, measured on this machine's records).
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport realloc
from libc.string cimport memcmp, memcpy

cdef extern from "openssl/sha.h":
    # The low-level calls: OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
    # which costs more than hashing a leaf.
    ctypedef struct SHA256_CTX:
        pass
    int SHA256_Init(SHA256_CTX *context)
    int SHA256_Update(SHA256_CTX *context, const void *data, size_t count)
    int SHA256_Final(unsigned char *digest, SHA256_CTX *context)


cdef inline void _sha256(const unsigned char *data, size_t count, unsigned char *digest):
    cdef SHA256_CTX context
    SHA256_Init(&context)
    SHA256_Update(&context, data, count)
    SHA256_Final(digest, &context)

# Must equal casesync.trust.tree's; the loader refuses a module whose constants differ.
LEAF_PREFIX = b"\x00casesync-record-v1"
NODE_PREFIX = b"\x01"

DEF WIDTH = 32  # SHA-256
DEF MAX_DEPTH = 48  # a path of more levels goes to Python (trees hold at most 2**35 leaves)
DEF MAX_FINGERPRINT = 64  # bytes
DEF MAX_HEADERS = 32  # a record with more goes to Python

cdef bytes _LEAF_PREFIX = LEAF_PREFIX
# The headers a batch-mate needs, each exactly once, by slot.
cdef dict _SLOTS = {"signature": 0, "source_region": 1, "event_id": 2, "event_type": 3,
                    "fingerprint": 4}
cdef frozenset _FORMER = frozenset(("sig_suite", "sig_key", "sig_time", "sig_root", "sig_path"))
cdef unsigned char *_leaf = NULL  # the leaf being hashed; the GIL is held throughout
cdef Py_ssize_t _leaf_capacity = 0


cdef int _reserve(Py_ssize_t size) except -1:
    global _leaf, _leaf_capacity
    cdef unsigned char *grown
    if size > _leaf_capacity:
        grown = <unsigned char *>realloc(_leaf, size)
        if grown == NULL:
            raise MemoryError()
        _leaf, _leaf_capacity = grown, size
    return 0


cdef inline unsigned char *_put(unsigned char *at, bytes field):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(field)
    memcpy(at, PyBytes_AS_STRING(field), n)
    return at + n


cdef inline unsigned char *_put_length(unsigned char *at, Py_ssize_t n):
    at[0] = (n >> 24) & 0xFF
    at[1] = (n >> 16) & 0xFF
    at[2] = (n >> 8) & 0xFF
    at[3] = n & 0xFF
    return at + 4


cdef Py_ssize_t _lay_out_leaf(const char **data, Py_ssize_t *lengths) except -1:
    """Lay out in ``_leaf`` the leaf of the seven fields (``data``, ``lengths``; a length of -1
    is an absent key or value) as casesync.trust.tree.encoded_leaf does; its size."""
    cdef Py_ssize_t k, size = PyBytes_GET_SIZE(_LEAF_PREFIX) + 28
    cdef unsigned char *out
    for k in range(7):
        if lengths[k] > 0:
            size += lengths[k]
    _reserve(size)
    out = _put(_leaf, _LEAF_PREFIX)
    for k in range(7):
        out = _put_length(out, 0xFFFFFFFF if lengths[k] < 0 else lengths[k])
    for k in range(7):
        if lengths[k] > 0:
            memcpy(out, data[k], lengths[k])
            out += lengths[k]
    return size


cdef struct _Fold:
    # The states of one record's fold, leaf first: node, place (fn, sn as in fold_path) and
    # where in ``raw`` the path still to fold starts.
    Py_ssize_t count
    Py_ssize_t fn[MAX_DEPTH + 1]
    Py_ssize_t sn[MAX_DEPTH + 1]
    Py_ssize_t at[MAX_DEPTH + 1]
    unsigned char node[MAX_DEPTH + 1][WIDTH]
    const unsigned char *raw  # the record's signature header: the records list holds it
    Py_ssize_t length


cdef inline int _hex_digit(unsigned char c):
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


def settle(list records not None, Py_ssize_t start, bytes target not None, dict passed not None,
           object manifest, object suite, long long now_us):
    """Prove ``records`` (tuples ending in key, value and headers) from ``start`` on; the
    index of the first one not proved here, ``len(records)`` when all were.

    ``passed``: batch part -> the batch that passed every check (``Verifier._passed``); only
    those passed under ``manifest`` (the one in force) and hashed by ``suite`` (SHA-256's) count.
    """
    cdef Py_ssize_t n = len(records), i, length, end, at, size, index, fn, sn, depth, level
    cdef Py_ssize_t fingerprint_size, last, slot, h, seen, header_count, tree_size = 0
    cdef PyObject *names[MAX_HEADERS]
    cdef Py_hash_t hashes[MAX_HEADERS]
    cdef PyObject *found[5]
    cdef PyObject *where
    cdef long long not_before = 0
    cdef const unsigned char *raw
    cdef const unsigned char *hex_text
    cdef const char *data[7]
    cdef Py_ssize_t lengths[7]
    cdef const unsigned char *proof_bytes = NULL
    cdef unsigned char fingerprint[MAX_FINGERPRINT]
    cdef unsigned char node[1 + 2 * WIDTH]
    cdef unsigned char leaf_hash[WIDTH]
    cdef int high, low, shift
    cdef unsigned char folded[WIDTH]
    cdef _Fold folds[2]
    cdef _Fold *here = &folds[0]
    cdef _Fold *before = &folds[1]  # the last record proved of the current batch part
    cdef Py_ssize_t steps, j
    cdef bint joined
    cdef bytes signature, source, event_id, event_type, fingerprint_text, key, value
    cdef bytes proof = None, source_expected = None, root = None
    cdef const unsigned char *root_bytes = NULL
    cdef object entry
    cdef object record, headers, header, name, header_value
    if not 0 <= start <= n:
        raise IndexError(f"start {start} outside 0..{n}")
    folds[0].count = folds[1].count = 0
    for i in range(start, n):
        record = records[i]
        if not isinstance(record, tuple):
            return i
        last = len(record) - 1
        if last < 2:
            return i
        key, value, headers = record[last - 2], record[last - 1], record[last]
        if type(key) is not bytes or type(value) is not bytes:
            return i
        for slot in range(5):
            found[slot] = NULL
        # A tuple or list holds its headers, so the borrowed pointers below stay valid.
        if type(headers) is not tuple and type(headers) is not list:
            return i
        header_count = len(headers)
        if header_count > MAX_HEADERS:
            return i
        for h in range(header_count):
            header = headers[h]
            if type(header) is not tuple or len(header) != 2 or type(header[0]) is not str:
                return i
            name, header_value = header
            hashes[h] = hash(name)  # cached in the str
            for seen in range(h):  # any name repeated: Python's full checks decide, as they do
                if hashes[seen] == hashes[h] and (<object>names[seen]) == name:
                    return i
            names[h] = <PyObject *>name  # borrowed: its header tuple holds it
            where = PyDict_GetItem(_SLOTS, name)
            if where == NULL:
                if name in _FORMER:
                    return i
                continue
            slot = <Py_ssize_t>(<object>where)
            if type(header_value) is not bytes:
                return i  # not bytes: Python decides
            found[slot] = <PyObject *>header_value  # borrowed: the record holds it
        for slot in range(5):
            if found[slot] == NULL:
                return i
        signature, source, event_id, event_type, fingerprint_text = (
            <bytes>found[0], <bytes>found[1], <bytes>found[2], <bytes>found[3], <bytes>found[4]
        )

        # The batch: the same batch part as the record before it (most records), or looked up.
        raw = <const unsigned char *>PyBytes_AS_STRING(signature)
        length = PyBytes_GET_SIZE(signature)
        if length <= 2 or raw[0] != 1:
            return i
        end = raw[1]
        if end < 3 or end >= length:
            return i
        if proof is None or end != PyBytes_GET_SIZE(proof) or memcmp(raw, proof_bytes, end) != 0:
            proof = PyBytes_FromStringAndSize(<const char *>raw, end)
            entry = passed.get(proof)
            if entry is None or entry.manifest is not manifest or entry.suite is not suite:
                proof = None
                return i
            source_expected, tree_size = entry.source, entry.size
            not_before, root = entry.not_before_us, entry.root
            if PyBytes_GET_SIZE(root) != WIDTH:
                return i
            proof_bytes = <const unsigned char *>PyBytes_AS_STRING(proof)
            before.count = 0  # another tree: no predecessor to join
            root_bytes = <const unsigned char *>PyBytes_AS_STRING(root)
        if now_us < not_before or source != source_expected:
            return i

        # The fingerprint's hex text as bytes (any other text: Python decides).
        fingerprint_size = PyBytes_GET_SIZE(fingerprint_text) // 2
        if fingerprint_size == 0 or fingerprint_size > MAX_FINGERPRINT \
                or PyBytes_GET_SIZE(fingerprint_text) % 2:
            return i
        hex_text = <const unsigned char *>PyBytes_AS_STRING(fingerprint_text)
        for at in range(fingerprint_size):
            high = _hex_digit(hex_text[2 * at])
            low = _hex_digit(hex_text[2 * at + 1])
            if high < 0 or low < 0:
                return i
            fingerprint[at] = high * 16 + low

        # The leaf, as casesync.trust.tree.encoded_leaf lays it out, and its hash.
        data[0], lengths[0] = PyBytes_AS_STRING(source), PyBytes_GET_SIZE(source)
        data[1], lengths[1] = PyBytes_AS_STRING(target), PyBytes_GET_SIZE(target)
        data[2], lengths[2] = PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)
        data[3], lengths[3] = PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)
        data[4], lengths[4] = <const char *>fingerprint, fingerprint_size
        data[5], lengths[5] = PyBytes_AS_STRING(event_id), PyBytes_GET_SIZE(event_id)
        data[6], lengths[6] = PyBytes_AS_STRING(event_type), PyBytes_GET_SIZE(event_type)
        size = _lay_out_leaf(data, lengths)
        _sha256(_leaf, size, leaf_hash)
        # Fold the path (casesync.trust.tree.fold_path) and compare with the root whose
        # signature held for this batch part: no Python object per record. Each state of the
        # fold (a node, its place in the tree, the path bytes still to fold) is kept; once the
        # current record reaches a state the last proved record of the batch passed through,
        # the rest of its fold is that record's, which reached the root: it is proved without
        # hashing further. So a record costs the hashes up to where its path joins its
        # predecessor's (about two in a run of neighbours), never another verdict.
        index, at = 0, end
        shift = 0
        while True:  # the leaf index, an LEB128 varint (casesync.trust.headers.read_varint)
            if at >= length or shift > 28:
                return i
            index |= (<Py_ssize_t>(raw[at] & 0x7F)) << shift
            shift += 7
            at += 1
            if not raw[at - 1] & 0x80:
                break
        depth = (length - at) // WIDTH
        if (length - at) % WIDTH or depth > MAX_DEPTH or index >= tree_size:
            return i
        fn, sn = index, tree_size - 1
        node[0] = 1
        memcpy(node + 1 + WIDTH, leaf_hash, WIDTH)  # the right half holds the current node
        joined = False
        steps, j = 0, 0
        while True:
            here.fn[steps], here.sn[steps], here.at[steps] = fn, sn, at
            memcpy(here.node[steps], node + 1 + WIDTH, WIDTH)
            if before.count and sn > 0:
                while j < before.count and before.sn[j] > sn:
                    j += 1
                if (j < before.count and before.sn[j] == sn and before.fn[j] == fn
                        and length - at == before.length - before.at[j]
                        and memcmp(before.node[j], node + 1 + WIDTH, WIDTH) == 0
                        and memcmp(raw + at, before.raw + before.at[j], length - at) == 0):
                    joined = True
                    break
            if steps == depth:
                break
            if sn == 0:
                return i
            if fn & 1 or fn == sn:
                memcpy(node + 1, raw + at, WIDTH)
                while not fn & 1 and fn:
                    fn >>= 1
                    sn >>= 1
            else:
                memcpy(node + 1, node + 1 + WIDTH, WIDTH)
                memcpy(node + 1 + WIDTH, raw + at, WIDTH)
            _sha256(node, 1 + 2 * WIDTH, folded)
            memcpy(node + 1 + WIDTH, folded, WIDTH)
            fn >>= 1
            sn >>= 1
            at += WIDTH
            steps += 1
        if joined:  # the states after the join are the predecessor's
            for level in range(j + 1, before.count):
                steps += 1
                here.fn[steps], here.sn[steps] = before.fn[level], before.sn[level]
                here.at[steps] = at + before.at[level] - before.at[j]
                memcpy(here.node[steps], before.node[level], WIDTH)
        elif sn != 0 or memcmp(node + 1 + WIDTH, root_bytes, WIDTH) != 0:
            return i
        here.count, here.raw, here.length = steps + 1, raw, length
        here, before = before, here
    return n


cdef int _hash_leaf(tuple fields, unsigned char *digest) except -1:
    """SHA-256 of ``encoded_leaf(*fields)``: the leaf laid out in ``_leaf``, hashed at once."""
    cdef Py_buffer views[7]
    cdef bint held[7]
    cdef const char *data[7]
    cdef Py_ssize_t lengths[7]
    cdef Py_ssize_t k
    cdef object field
    for k in range(7):
        held[k] = False
    try:
        for k in range(7):
            field = fields[k]
            if field is None and (k == 2 or k == 3):  # an absent key or value
                data[k], lengths[k] = NULL, -1
            elif type(field) is bytes:
                data[k], lengths[k] = PyBytes_AS_STRING(field), PyBytes_GET_SIZE(field)
            else:  # a memoryview or bytearray; TypeError for anything without bytes
                PyObject_GetBuffer(field, &views[k], PyBUF_SIMPLE)
                held[k] = True
                data[k], lengths[k] = <const char *>views[k].buf, views[k].len
        _sha256(_leaf, _lay_out_leaf(data, lengths), digest)
    finally:
        for k in range(7):
            if held[k]:
                PyBuffer_Release(&views[k])
    return 0


def signed_tree(list leaves not None, object batch_part_for, str header_name not None):
    """Each record's signature header for a SHA-256 tree over ``leaves`` (each record's
    ``LeafFields``, a tuple; at least one): ``(header_name, batch part + leaf index + path)``,
    where ``batch_part_for(root)`` signs the root and gives the batch part. The tree and paths
    are ``build_joined_tree``'s, the header values ``signature_headers``'."""
    cdef Py_ssize_t n = len(leaves), total = 0, count, level, index, at, depth, steps, size
    cdef Py_ssize_t batch_size, index_size
    cdef Py_ssize_t starts[MAX_DEPTH + 2]
    cdef Py_ssize_t counts[MAX_DEPTH + 2]
    cdef unsigned char *nodes
    cdef unsigned char *out
    cdef unsigned char pair[1 + 2 * WIDTH]
    cdef unsigned char varint[10]
    cdef object leaf, signed
    cdef bytes batch, value
    cdef list headers
    if n == 0:
        raise ValueError("a tree needs at least one leaf")
    for leaf in leaves:
        if type(leaf) is not tuple or len(<tuple>leaf) != 7:
            raise TypeError("each leaf must be a tuple of its 7 fields")
    # Level sizes: pairs are hashed, a level's last node without a sibling moves up as it is.
    count, depth = n, 0
    while True:
        starts[depth], counts[depth] = total, count
        total += count
        if count == 1:
            break
        count = (count + 1) // 2
        depth += 1
        if depth > MAX_DEPTH:
            raise ValueError("too many leaves")
    nodes = <unsigned char *>PyMem_Malloc(total * WIDTH)
    if nodes == NULL:
        raise MemoryError()
    try:
        for index in range(n):
            _hash_leaf(<tuple>leaves[index], nodes + index * WIDTH)
        pair[0] = 1
        for level in range(depth):
            for index in range(counts[level + 1]):
                at = (starts[level] + 2 * index) * WIDTH
                if 2 * index + 1 < counts[level]:
                    memcpy(pair + 1, nodes + at, 2 * WIDTH)
                    _sha256(pair, 1 + 2 * WIDTH, nodes + (starts[level + 1] + index) * WIDTH)
                else:
                    memcpy(nodes + (starts[level + 1] + index) * WIDTH, nodes + at, WIDTH)
        signed = batch_part_for(
            PyBytes_FromStringAndSize(<const char *>nodes + starts[depth] * WIDTH, WIDTH))
        if type(signed) is not bytes:
            raise TypeError("batch_part_for must return bytes")
        batch = signed
        batch_size = PyBytes_GET_SIZE(batch)
        headers = []
        for index in range(n):
            index_size, at = 0, index
            while True:  # LEB128, as casesync.trust.headers.varint
                varint[index_size] = (at & 0x7F) | (0x80 if at >= 0x80 else 0)
                index_size += 1
                at >>= 7
                if not at:
                    break
            steps, at = 0, index
            for level in range(depth):  # the siblings that exist, leaf to root
                if (at ^ 1) < counts[level]:
                    steps += 1
                at >>= 1
            size = batch_size + index_size + steps * WIDTH
            value = PyBytes_FromStringAndSize(NULL, size)
            out = <unsigned char *>PyBytes_AS_STRING(value)
            memcpy(out, PyBytes_AS_STRING(batch), batch_size)
            memcpy(out + batch_size, varint, index_size)
            out += batch_size + index_size
            at = index
            for level in range(depth):
                if (at ^ 1) < counts[level]:
                    memcpy(out, nodes + (starts[level] + (at ^ 1)) * WIDTH, WIDTH)
                    out += WIDTH
                at >>= 1
            headers.append((header_name, value))
        return headers
    finally:
        PyMem_Free(nodes)
