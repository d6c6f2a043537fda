import { describe, expect, it } from "vitest";
import {
  Codes,
  execErrnoCode,
  ForgeError,
  HTTP_STATUS,
  hasForgeCode,
  httpStatus,
  isForgeCode,
} from "../src/errors.js";

describe("the error table", () => {
  it("gives every declared code a status, client timeouts 408, upstream timeouts 504", () => {
    for (const code of Object.values(Codes)) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(httpStatus(Codes.TIMEOUT)).toBe(408);
    expect(httpStatus(Codes.UPSTREAM_TIMEOUT)).toBe(504);
    expect(httpStatus(Codes.BAD_REQUEST)).toBe(400);
    expect(httpStatus(Codes.EVIDENCE_FULL)).toBe(503);
  });

  it("answers 500 for anything without a declared code", () => {
    expect(httpStatus("FORGE_MADE_UP")).toBe(500);
    expect(httpStatus(undefined)).toBe(500);
    expect(httpStatus(execErrnoCode("ENOENT"))).toBe(500);
  });

  it("knows only declared codes and the executor's errno family", () => {
    expect(isForgeCode(Codes.CONFLICT)).toBe(true);
    expect(isForgeCode("FORGE_EXEC_ENOENT")).toBe(true);
    expect(isForgeCode("FORGE_MADE_UP")).toBe(false);
    expect(hasForgeCode(Object.assign(new Error("x"), { code: "FORGE_MADE_UP" }))).toBe(false);
    expect(hasForgeCode(new ForgeError(Codes.NOT_FOUND, "x"))).toBe(true);
    expect(execErrnoCode("EACCES")).toBe("FORGE_EXEC_EACCES");
    expect(execErrnoCode(undefined)).toBe("FORGE_EXEC_EIO");
  });
});
