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
instead of eight.

``settle`` reads the records through borrowed pointers and compares header names by their
text: it writes nothing to them (no reference count, no cached hash), so their memory stays
where the consumer's decoding finds it next. It then hashes up to ``CHUNK`` of them at a time
without the GIL, so that the process's other threads (the consumer's writer, the relay of
``casesync run``) run meanwhile. Together 1.14 µs a batch-mate instead of 1.29-1.37, over the
same 30,000 records of six partitions.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy, strlen

cdef extern from "Python.h":
    # Borrowed references, as plain pointers: reading a record writes nothing to it (no
    # reference count), so the thread that decodes it next finds its memory as it left it.
    PyObject *PyTuple_GET_ITEM(PyObject *p, Py_ssize_t pos)
    Py_ssize_t PyTuple_GET_SIZE(PyObject *p)
    bint PyTuple_Check(PyObject *p)
    bint PyTuple_CheckExact(PyObject *p)
    PyObject *PyList_GET_ITEM(PyObject *p, Py_ssize_t pos)
    Py_ssize_t PyList_GET_SIZE(PyObject *p)
    bint PyList_CheckExact(PyObject *p)
    bint PyBytes_CheckExact(PyObject *p)
    bint PyUnicode_CheckExact(PyObject *p)
    bint PyUnicode_IS_COMPACT_ASCII(PyObject *p)
    Py_ssize_t PyUnicode_GET_LENGTH(PyObject *p)
    void *PyUnicode_DATA(PyObject *p)
    char *PyBytes_AS_STRING_P "PyBytes_AS_STRING" (PyObject *p)
    Py_ssize_t PyBytes_GET_SIZE_P "PyBytes_GET_SIZE" (PyObject *p)

cdef extern from "openssl/sha.h":
    # The low-level calls: OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
    # which costs more than hashing a leaf.
    ctypedef struct SHA256_CTX:
        pass
    int SHA256_Init(SHA256_CTX *context) nogil
    int SHA256_Update(SHA256_CTX *context, const void *data, size_t count) nogil
    int SHA256_Final(unsigned char *digest, SHA256_CTX *context) nogil


cdef inline void _sha256(const unsigned char *data, size_t count,
                         unsigned char *digest) noexcept nogil:
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
DEF CHUNK = 256  # records settle reads before it hashes them without the GIL

# The leaf prefix for C, used without the GIL (the bytes object lives as long as the module).
cdef bytes _PREFIX = LEAF_PREFIX
cdef const char *_PREFIX_BYTES = _PREFIX
cdef Py_ssize_t _PREFIX_SIZE = len(_PREFIX)
# The headers a batch-mate needs, each exactly once, by slot (0-4), then the former layout's
# (its records go to Python, which refuses them with their reason).
cdef const char *_NAMES[10]
_NAMES[:] = [b"signature", b"source_region", b"event_id", b"event_type", b"fingerprint",
             b"sig_suite", b"sig_key", b"sig_time", b"sig_root", b"sig_path"]
cdef Py_ssize_t _NAME_SIZES[10]
for _k in range(10):
    _NAME_SIZES[_k] = strlen(_NAMES[_k])
DEF SLOTS = 5
DEF NOT_OURS = -1
DEF FOR_PYTHON = -2


cdef inline int _slot_of(PyObject *name) noexcept:
    """The slot of a header ``name`` (an exact str), read without writing to it: 0-4 for the
    headers a batch-mate needs, NOT_OURS for any other, FOR_PYTHON for a former header or a
    name that is not compact ASCII (Python's checks decide such records)."""
    cdef Py_ssize_t size, k
    if not PyUnicode_IS_COMPACT_ASCII(name):
        return FOR_PYTHON
    size = PyUnicode_GET_LENGTH(name)
    for k in range(10):
        if size == _NAME_SIZES[k] and memcmp(PyUnicode_DATA(name), _NAMES[k], size) == 0:
            return k if k < SLOTS else FOR_PYTHON
    return NOT_OURS


cdef inline bint _same_text(PyObject *a, PyObject *b) noexcept:
    """Two compact ASCII strs hold the same text."""
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(a)
    return size == PyUnicode_GET_LENGTH(b) and memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b),
                                                      size) == 0
cdef unsigned char *_leaf = NULL  # signed_tree's leaf buffer; it holds the GIL throughout
cdef Py_ssize_t _leaf_capacity = 0


cdef inline unsigned char *_put_length(unsigned char *at, Py_ssize_t n) noexcept nogil:
    at[0] = (n >> 24) & 0xFF
    at[1] = (n >> 16) & 0xFF
    at[2] = (n >> 8) & 0xFF
    at[3] = n & 0xFF
    return at + 4


cdef Py_ssize_t _lay_out(unsigned char **buffer, Py_ssize_t *capacity, const char **data,
                         Py_ssize_t *lengths) noexcept nogil:
    """Lay out in ``buffer`` (grown as needed) the leaf of the seven fields (``data``,
    ``lengths``; a length of -1 is an absent key or value) as casesync.trust.tree.encoded_leaf
    does; its size, -1 when out of memory."""
    cdef Py_ssize_t k, size = _PREFIX_SIZE + 28
    cdef unsigned char *out
    for k in range(7):
        if lengths[k] > 0:
            size += lengths[k]
    if size > capacity[0]:
        out = <unsigned char *>realloc(buffer[0], size)
        if out == NULL:
            return -1
        buffer[0], capacity[0] = out, size
    out = buffer[0]
    memcpy(out, _PREFIX_BYTES, _PREFIX_SIZE)
    out += _PREFIX_SIZE
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


cdef struct _Gathered:
    # One record read for proving: pointers into its bytes (held by the records list and its
    # tuples, immutable, while the GIL is released), its fingerprint decoded, its place.
    const char *data[7]
    Py_ssize_t lengths[7]
    unsigned char fingerprint[MAX_FINGERPRINT]
    const unsigned char *raw  # the signature header's value
    Py_ssize_t length
    Py_ssize_t path_at  # where its path starts in ``raw``
    Py_ssize_t index
    Py_ssize_t depth
    Py_ssize_t tree_size
    const unsigned char *root  # of the tree its batch part's signature held for
    bint new_tree  # another batch part than the record before it: no predecessor to join


cdef Py_ssize_t _prove(_Gathered *items, Py_ssize_t count, _Fold *folds, int *current,
                       unsigned char **buffer, Py_ssize_t *capacity) noexcept nogil:
    """How many of ``items`` are proved, in order: each one's leaf folds along its path to its
    tree's root (or joins the fold of the record proved before it); -1 when out of memory.
    ``folds[*current]`` holds the fold of the record proved last, across calls."""
    cdef Py_ssize_t k, size, fn, sn, at, steps, j, level, length
    cdef const unsigned char *raw
    cdef unsigned char node[1 + 2 * WIDTH]
    cdef unsigned char leaf_hash[WIDTH]
    cdef unsigned char folded[WIDTH]
    cdef bint joined
    cdef _Fold *before
    cdef _Fold *here
    cdef _Gathered *item
    for k in range(count):
        item = &items[k]
        before, here = &folds[current[0]], &folds[1 - current[0]]
        if item.new_tree:
            before.count = 0
        size = _lay_out(buffer, capacity, item.data, item.lengths)
        if size < 0:
            return -1
        _sha256(buffer[0], size, leaf_hash)
        # Fold the path (casesync.trust.tree.fold_path) and compare with the root whose
        # signature held for this batch part. Each state of the fold (a node, its place in the
        # tree, the path bytes still to fold) is kept; once the current record reaches a state
        # the last proved record of the batch passed through, the rest of its fold is that
        # record's, which reached the root: proved without hashing further. So a record costs
        # the hashes up to where its path joins its predecessor's (about two in a run of
        # neighbours).
        raw, length, at = item.raw, item.length, item.path_at
        fn, sn = item.index, item.tree_size - 1
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
            if steps == item.depth:
                break
            if sn == 0:
                return k
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
        elif sn != 0 or memcmp(node + 1 + WIDTH, item.root, WIDTH) != 0:
            return k
        here.count, here.raw, here.length = steps + 1, raw, length
        current[0] = 1 - current[0]
    return count


def settle(list records not None, Py_ssize_t start, bytes target not None, dict passed not None,
           object manifest, object suite, long long now_us):
    """Prove ``records`` (tuples ending in key, value and headers) from ``start`` on; the
    index of the first one not proved here, ``len(records)`` when all were.

    ``passed``: batch part -> the batch that passed every check (``Verifier._passed``); only
    those passed under ``manifest`` (the one in force) and hashed by ``suite`` (SHA-256's) count.

    Reads up to ``CHUNK`` records at a time with the GIL, writing nothing to them (borrowed
    pointers, no reference counts), then hashes and folds them without it, so that another
    thread runs meanwhile. ``records`` and the tuples in it must not change during the call;
    records whose headers are a list are proved with the GIL held.
    """
    cdef Py_ssize_t n = len(records), i, k, length, end, at, index, count, proved, stop
    cdef Py_ssize_t fingerprint_size, last, h, seen, header_count, tree_size = 0
    cdef PyObject *names[MAX_HEADERS]
    cdef PyObject *found[SLOTS]
    cdef PyObject *record
    cdef PyObject *key
    cdef PyObject *value
    cdef PyObject *headers
    cdef PyObject *header
    cdef PyObject *name
    cdef PyObject *header_value
    cdef PyObject *listed = <PyObject *>records
    cdef long long not_before = 0
    cdef const unsigned char *raw
    cdef const unsigned char *hex_text
    cdef const unsigned char *proof_bytes = NULL
    cdef const unsigned char *root_bytes = NULL
    cdef const char *source_expected_bytes = NULL
    cdef Py_ssize_t source_expected_size = 0
    cdef int high = 0, low = 0, shift, slot, current = 0
    cdef bint new_tree = True, release
    cdef _Fold folds[2]
    cdef _Gathered *items
    cdef _Gathered *item
    cdef unsigned char *buffer = NULL
    cdef Py_ssize_t capacity = 0
    cdef bytes proof = None, root
    cdef list held = []  # the roots and expected sources in use: alive while pointed to
    cdef object entry
    if not 0 <= start <= n:
        raise IndexError(f"start {start} outside 0..{n}")
    folds[0].count = folds[1].count = 0
    items = <_Gathered *>PyMem_Malloc(CHUNK * sizeof(_Gathered))
    if items == NULL:
        raise MemoryError()
    try:
        i = start
        while i < n:
            # Read a chunk: stop at the first record Python must decide (``stop``).
            count, stop, release = 0, -1, True
            while count < CHUNK and i + count < n:
                k = i + count
                stop = k  # until the record is read through
                record = PyList_GET_ITEM(listed, k)
                if not PyTuple_Check(record):
                    break
                last = PyTuple_GET_SIZE(record) - 1
                if last < 2:
                    break
                key = PyTuple_GET_ITEM(record, last - 2)
                value = PyTuple_GET_ITEM(record, last - 1)
                headers = PyTuple_GET_ITEM(record, last)
                if not PyBytes_CheckExact(key) or not PyBytes_CheckExact(value):
                    break
                if PyTuple_CheckExact(headers):
                    header_count = PyTuple_GET_SIZE(headers)
                elif PyList_CheckExact(headers):
                    release = False  # a list may change while the GIL is released
                    header_count = PyList_GET_SIZE(headers)
                else:
                    break
                if header_count > MAX_HEADERS:
                    break
                for slot in range(SLOTS):
                    found[slot] = NULL
                for h in range(header_count):
                    header = (PyTuple_GET_ITEM(headers, h) if PyTuple_CheckExact(headers)
                              else PyList_GET_ITEM(headers, h))
                    if not PyTuple_CheckExact(header) or PyTuple_GET_SIZE(header) != 2:
                        break
                    name = PyTuple_GET_ITEM(header, 0)
                    if not PyUnicode_CheckExact(name):
                        break
                    slot = _slot_of(name)
                    if slot == FOR_PYTHON:
                        break
                    for seen in range(h):  # a name repeated: Python's full checks decide
                        if _same_text(names[seen], name):
                            slot = FOR_PYTHON
                            break
                    if slot == FOR_PYTHON:
                        break
                    names[h] = name
                    if slot == NOT_OURS:
                        continue
                    header_value = PyTuple_GET_ITEM(header, 1)
                    if not PyBytes_CheckExact(header_value):
                        break  # not bytes: Python decides
                    found[slot] = header_value
                else:
                    h = header_count
                if h < header_count:
                    break
                for slot in range(SLOTS):
                    if found[slot] == NULL:
                        break
                else:
                    slot = SLOTS
                if slot < SLOTS:
                    break

                # The batch: the same batch part as the record before it (most records), or
                # looked up.
                raw = <const unsigned char *>PyBytes_AS_STRING_P(found[0])
                length = PyBytes_GET_SIZE_P(found[0])
                if length <= 2 or raw[0] != 1:
                    break
                end = raw[1]
                if end < 3 or end >= length:
                    break
                if proof is None or end != PyBytes_GET_SIZE(proof) \
                        or memcmp(raw, proof_bytes, end) != 0:
                    proof = PyBytes_FromStringAndSize(<const char *>raw, end)
                    entry = passed.get(proof)
                    if entry is None or entry.manifest is not manifest or entry.suite is not suite:
                        proof = None
                        break
                    root = entry.root
                    if type(entry.source) is not bytes or PyBytes_GET_SIZE(root) != WIDTH:
                        proof = None
                        break
                    held.append(root)
                    held.append(entry.source)
                    tree_size, not_before = entry.size, entry.not_before_us
                    source_expected_bytes = PyBytes_AS_STRING(entry.source)
                    source_expected_size = PyBytes_GET_SIZE(entry.source)
                    proof_bytes = <const unsigned char *>PyBytes_AS_STRING(proof)
                    root_bytes = <const unsigned char *>PyBytes_AS_STRING(root)
                    new_tree = True
                if now_us < not_before or PyBytes_GET_SIZE_P(found[1]) != source_expected_size \
                        or memcmp(PyBytes_AS_STRING_P(found[1]), source_expected_bytes,
                                  source_expected_size) != 0:
                    break

                item = &items[count]
                # The fingerprint's hex text as bytes (any other text: Python decides).
                fingerprint_size = PyBytes_GET_SIZE_P(found[4]) // 2
                if fingerprint_size == 0 or fingerprint_size > MAX_FINGERPRINT \
                        or PyBytes_GET_SIZE_P(found[4]) % 2:
                    break
                hex_text = <const unsigned char *>PyBytes_AS_STRING_P(found[4])
                for at in range(fingerprint_size):
                    high = _hex_digit(hex_text[2 * at])
                    low = _hex_digit(hex_text[2 * at + 1])
                    if high < 0 or low < 0:
                        break
                    item.fingerprint[at] = high * 16 + low
                if high < 0 or low < 0:
                    break

                # The leaf index, an LEB128 varint (casesync.trust.headers.read_varint), and
                # the path's depth.
                index, at, shift = 0, end, 0
                while True:
                    if at >= length or shift > 28:
                        index = -1
                        break
                    index |= (<Py_ssize_t>(raw[at] & 0x7F)) << shift
                    shift += 7
                    at += 1
                    if not raw[at - 1] & 0x80:
                        break
                if index < 0 or (length - at) % WIDTH or (length - at) // WIDTH > MAX_DEPTH \
                        or index >= tree_size:
                    break

                # The leaf's fields, as casesync.trust.tree.encoded_leaf lays them out.
                item.data[0] = PyBytes_AS_STRING_P(found[1])
                item.lengths[0] = PyBytes_GET_SIZE_P(found[1])
                item.data[1], item.lengths[1] = PyBytes_AS_STRING(target), PyBytes_GET_SIZE(target)
                item.data[2], item.lengths[2] = PyBytes_AS_STRING_P(key), PyBytes_GET_SIZE_P(key)
                item.data[3] = PyBytes_AS_STRING_P(value)
                item.lengths[3] = PyBytes_GET_SIZE_P(value)
                item.data[4], item.lengths[4] = <const char *>item.fingerprint, fingerprint_size
                item.data[5] = PyBytes_AS_STRING_P(found[2])
                item.lengths[5] = PyBytes_GET_SIZE_P(found[2])
                item.data[6] = PyBytes_AS_STRING_P(found[3])
                item.lengths[6] = PyBytes_GET_SIZE_P(found[3])
                item.raw, item.length, item.path_at = raw, length, at
                item.index, item.depth = index, (length - at) // WIDTH
                item.tree_size, item.root, item.new_tree = tree_size, root_bytes, new_tree
                new_tree = False
                count += 1
                stop = -1

            # Prove what was read: without the GIL when nothing read can change meanwhile.
            if release:
                with nogil:
                    proved = _prove(items, count, folds, &current, &buffer, &capacity)
            else:
                proved = _prove(items, count, folds, &current, &buffer, &capacity)
            if proved < 0:
                raise MemoryError()
            if proved < count:
                return i + proved
            if stop >= 0:
                return stop
            i += count
        return n
    finally:
        PyMem_Free(items)
        free(buffer)


cdef int _hash_leaf(tuple fields, unsigned char *digest) except -1:
    """SHA-256 of ``encoded_leaf(*fields)``: the leaf laid out in ``_leaf``, hashed at once."""
    cdef Py_buffer views[7]
    cdef bint held[7]
    cdef const char *data[7]
    cdef Py_ssize_t lengths[7]
    cdef Py_ssize_t k, size
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
        size = _lay_out(&_leaf, &_leaf_capacity, data, lengths)
        if size < 0:
            raise MemoryError()
        _sha256(_leaf, size, digest)
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
