// Rate-controlled UDP sender for the capture benchmark (compiled at bench time with gcc).
//   udpflood DST_IP PORT PAYLOAD_BYTES RATE_PPS DURATION_S
// RATE_PPS 0 = as fast as possible. Sends batches of up to 32 datagrams with sendmmsg(); with a
// rate, each batch waits (clock_nanosleep, absolute) until it is due, so the long-run rate is
// exact and the sender sleeps instead of spinning. Payload: 4-byte big-endian sequence number,
// rest zero. Prints one JSON line: {"sent":N,"seconds":S,"pps":P,"errors":E}.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s DST_IP PORT PAYLOAD_BYTES RATE_PPS DURATION_S\n", argv[0]);
    return 64;
  }
  const char *dst = argv[1];
  int port = atoi(argv[2]);
  size_t size = (size_t)atoi(argv[3]);
  double rate = atof(argv[4]);
  double duration = atof(argv[5]);
  if (size < 4) size = 4;

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int sndbuf = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, dst, &addr.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 64; }
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) { perror("connect"); return 1; }

  static unsigned char bufs[BATCH][2048];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(bufs, 0, sizeof(bufs));
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = size > 2048 ? 2048 : size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t sent = 0, errors = 0;
  struct timespec start_ts;
  clock_gettime(CLOCK_MONOTONIC, &start_ts);
  double start = now_s();
  double end = start + duration;
  for (;;) {
    double t = now_s();
    if (t >= end) break;
    int n = BATCH;
    if (rate > 0) {
      // Batch k is due when k*BATCH packets are owed.
      double due = start + (double)sent / rate;
      if (due > t) {
        struct timespec ts;
        double abs_s = (double)start_ts.tv_sec + (double)start_ts.tv_nsec / 1e9 + (due - start);
        ts.tv_sec = (time_t)abs_s;
        ts.tv_nsec = (long)((abs_s - (double)ts.tv_sec) * 1e9);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        continue;
      }
    }
    for (int i = 0; i < n; i++) {
      uint32_t seq = htonl((uint32_t)(sent + (uint64_t)i));
      memcpy(bufs[i], &seq, 4);
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) { errors++; continue; }
      perror("sendmmsg");
      return 1;
    }
    sent += (uint64_t)r;
  }
  double secs = now_s() - start;
  printf("{\"sent\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"errors\":%llu}\n", (unsigned long long)sent, secs,
         (double)sent / secs, (unsigned long long)errors);
  close(fd);
  return 0;
}
