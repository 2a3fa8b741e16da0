"""Read upcoming slices on worker threads while the CDK consumes slices in order.

The CDK reads a stream's slices one after another. With several requests in flight the shared
rate budget, not network latency, becomes the limit. `OrderedPrefetcher.schedule` wraps the slice
iterator: when the CDK asks for slice i, the readers of slices i..i+depth-1 are already running;
`records(slice)` then hands over slice i's records in the order its reader produced them. So the
records, their order and every state message are exactly those of a sequential read.
Each reader buffers at most `max_buffered_pages` batches of records (by default the readers share
`_MAX_BUFFERED_RECORDS`), so memory stays flat however many records a sync reads.
"""

import queue
import threading
from collections import deque
from typing import Any, Callable, Deque, Iterable, Iterator, List, Mapping, Optional

_DONE = object()
_PUT_TIMEOUT_SECONDS = 0.5
_BATCH_SIZE = 500
# Records buffered ahead of the consumer, shared out among the readers. A reader of a later slice
# that fills its buffer stops requesting, so long slices (a dense 30-day messages window is dozens
# of 1000-record pages) need deep buffers to keep requests in flight: with 2000 records per reader
# messages reached 0.68 of the rate floor, with 10000 0.90. 60000 messages take about 90 MB.
# Re-measure after changing it: `make bench` reports efficiency and peak RSS per stream.
_MAX_BUFFERED_RECORDS = 60_000


class _SliceReader:
    def __init__(
        self,
        stream_slice: Any,
        read_slice: Callable[[Any], Iterable[Any]],
        max_buffered_pages: int,
        closed: threading.Event,
    ):
        self.stream_slice = stream_slice
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=max_buffered_pages)
        self._closed = closed
        self._read_slice = read_slice
        self._thread = threading.Thread(target=self._run, name="customerio-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=_PUT_TIMEOUT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        batch: List[Any] = []
        try:
            for record in self._read_slice(self.stream_slice):
                batch.append(record)
                if len(batch) >= _BATCH_SIZE:
                    if not self._put(batch):
                        return
                    batch = []
            outcome: Any = _DONE
        except BaseException as error:  # handed to the consumer, which re-raises it in the main thread
            outcome = error
        # The records read before an error are handed over first, as a sequential read would emit them.
        if not batch or self._put(batch):
            self._put(outcome)

    def records(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item


class OrderedPrefetcher:
    def __init__(self, depth: int, max_buffered_pages: Optional[int] = None):
        self._depth = depth
        self._max_buffered_pages = max_buffered_pages or max(1, _MAX_BUFFERED_RECORDS // _BATCH_SIZE // depth)
        self._readers: Deque[_SliceReader] = deque()
        self._closed = threading.Event()

    def schedule(
        self, slices: Iterable[Mapping[str, Any]], read_slice: Callable[[Any], Iterable[Any]]
    ) -> Iterator[Mapping[str, Any]]:
        """Yield `slices` in order while `read_slice` reads up to `depth` of them ahead on worker threads."""
        self._closed.clear()
        self._readers.clear()
        upcoming = iter(slices)
        waiting: Deque[Any] = deque()
        exhausted = False
        try:
            while True:
                while not exhausted and len(self._readers) < self._depth:
                    stream_slice = next(upcoming, _DONE)
                    if stream_slice is _DONE:
                        exhausted = True
                        break
                    self._readers.append(_SliceReader(stream_slice, read_slice, self._max_buffered_pages, self._closed))
                    waiting.append(stream_slice)
                if not waiting:
                    return
                yield waiting.popleft()
        except GeneratorExit:  # the consumer gave up early: stop the readers
            self._closed.set()
            raise

    def is_next(self, stream_slice: Any) -> bool:
        """True when `stream_slice` is the oldest scheduled slice not yet consumed."""
        return bool(self._readers) and self._readers[0].stream_slice is stream_slice

    def records(self, stream_slice: Any) -> Iterator[Any]:
        """The records of `stream_slice`, which must be the oldest slice not yet consumed."""
        if not self.is_next(stream_slice):
            raise RuntimeError("slices were consumed out of order")
        reader = self._readers[0]
        try:
            yield from reader.records()
        finally:
            self._readers.popleft()
