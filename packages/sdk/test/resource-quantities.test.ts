import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseCpuQuantity, parseMemoryQuantity, RESOURCE_LIMITS } from "../src/index.ts";

function cores(text: string): number {
  const result = parseCpuQuantity(text);
  assert.ok(result.ok, `${text}: ${result.ok ? "" : result.reason}`);
  return result.value;
}

function bytes(text: string): number {
  const result = parseMemoryQuantity(text);
  assert.ok(result.ok, `${text}: ${result.ok ? "" : result.reason}`);
  return result.value;
}

function cpuReason(text: string): string {
  const result = parseCpuQuantity(text);
  assert.ok(!result.ok, `${text} was accepted as ${result.ok ? result.value : ""}`);
  return result.reason;
}

function memoryReason(text: string): string {
  const result = parseMemoryQuantity(text);
  assert.ok(!result.ok, `${text} was accepted as ${result.ok ? result.value : ""}`);
  return result.reason;
}

describe("CPU quantities", () => {
  test("cores, as a whole or decimal number", () => {
    assert.equal(cores("2"), 2);
    assert.equal(cores("0.5"), 0.5);
    assert.equal(cores(".25"), 0.25);
    assert.equal(cores("1.500"), 1.5);
    assert.equal(cores("0.01"), 0.01);
    assert.equal(cores("1024"), 1024);
  });

  test("millicores", () => {
    assert.equal(cores("500m"), 0.5);
    assert.equal(cores("2000m"), 2);
    assert.equal(cores("10m"), 0.01);
    assert.equal(cores("1500m"), 1.5);
  });

  test("cores are whole millicores, so backends get exact values", () => {
    assert.equal(Math.round(cores("0.5") * 1e9), 500_000_000);
    assert.equal(Math.round(cores("333m") * 1e9), 333_000_000);
    assert.match(cpuReason("0.0105"), /finer than a millicore/);
  });

  test("zero and negative amounts are refused", () => {
    for (const text of ["0", "0m", "0.0", "-1", "-0.5", "-500m"]) {
      assert.equal(cpuReason(text), "must be more than 0", text);
    }
  });

  test("amounts outside the limits are refused", () => {
    assert.equal(cpuReason("5m"), "is less than the minimum of 10m (0.01 cores)");
    assert.equal(cpuReason("0.009"), "is less than the minimum of 10m (0.01 cores)");
    assert.equal(cpuReason("1025"), "is more than the maximum of 1024 cores");
    assert.equal(cpuReason("99999999999999999999"), "is more than the maximum of 1024 cores");
  });

  test("anything else is not a quantity, with a hint", () => {
    for (const text of ["", "one", "1.", "0.5m", "1k", "1e3", " 1", "1 ", "+1", "1,5", "500M", "2cores"]) {
      assert.equal(
        cpuReason(text),
        "is not a quantity; use cores such as 0.5 or 2, or millicores such as 500m",
        JSON.stringify(text),
      );
    }
    assert.match(cpuReason("1".repeat(RESOURCE_LIMITS.maxQuantityLength + 1)), /longer than 32 characters/);
  });
});

describe("memory quantities", () => {
  test("bytes", () => {
    assert.equal(bytes("1000000000"), 1_000_000_000);
    assert.equal(bytes("6291456"), 6 * 1024 ** 2);
  });

  test("binary suffixes are powers of 1024", () => {
    assert.equal(bytes("64Mi"), 67_108_864);
    assert.equal(bytes("256Mi"), 268_435_456);
    assert.equal(bytes("1Gi"), 1_073_741_824);
    assert.equal(bytes("8192Ki"), 8_388_608);
    assert.equal(bytes("1Ti"), 1024 ** 4);
    assert.equal(bytes("1Pi"), 1024 ** 5);
  });

  test("decimal suffixes are powers of 1000", () => {
    assert.equal(bytes("512M"), 512_000_000);
    assert.equal(bytes("1G"), 1_000_000_000);
    assert.equal(bytes("7000k"), 7_000_000);
    assert.equal(bytes("2T"), 2e12);
  });

  test("fractions are allowed; a fraction of a byte is rounded up", () => {
    assert.equal(bytes("1.5Gi"), 1_610_612_736);
    assert.equal(bytes("0.5G"), 500_000_000);
    assert.equal(bytes("6291456.2"), 6_291_457);
  });

  test("zero and negative amounts are refused", () => {
    for (const text of ["0", "0Mi", "0.0G", "-1", "-256Mi"]) {
      assert.equal(memoryReason(text), "must be more than 0", text);
    }
  });

  test("amounts outside the limits are refused", () => {
    assert.equal(memoryReason("5Mi"), "is less than the minimum of 6Mi (6291456 bytes)");
    assert.equal(memoryReason("1000"), "is less than the minimum of 6Mi (6291456 bytes)");
    assert.equal(memoryReason("1025Ti"), "is more than the maximum of 1Pi");
    assert.equal(memoryReason("2P"), "is more than the maximum of 1Pi");
    assert.equal(memoryReason("99999999999999999999999999Pi"), "is more than the maximum of 1Pi");
  });

  test("a bare m is milli, as in Kubernetes, and refused with the likely meaning", () => {
    assert.equal(memoryReason("256m"), "is 256 thousandths of a byte (m means milli); use 256Mi or 256M");
  });

  test("everyday spellings get a suggestion", () => {
    assert.equal(memoryReason("1g"), "is not a quantity; did you mean 1Gi (or 1G)?");
    assert.equal(memoryReason("512MB"), "is not a quantity; did you mean 512Mi (or 512M)?");
    assert.equal(memoryReason("2GiB"), "is not a quantity; did you mean 2Gi (or 2G)?");
    assert.equal(memoryReason("64 Mi"), "is not a quantity; did you mean 64Mi (or 64M)?");
    assert.equal(memoryReason("100K"), "is not a quantity; did you mean 100Ki (or 100k)?");
  });

  test("anything else is not a quantity, with a hint", () => {
    for (const text of ["", "12XB", "lots", "1e9", "1E", "Mi", "1Mi ", "+1Mi", "1_000_000", "0x100000"]) {
      assert.equal(
        memoryReason(text),
        "is not a quantity; use bytes or a suffix like 256Mi or 1G",
        JSON.stringify(text),
      );
    }
    assert.match(memoryReason("9".repeat(33)), /longer than 32 characters/);
  });
});
