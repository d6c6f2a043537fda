/** Email recipients as RFC 5322 address lists, header injection (issue 19 §5). */
import { describe, expect, it } from "vitest";
import { headerInjection, recipientDomains } from "../../src/gate/email.js";

describe("recipientDomains", () => {
  it.each([
    ["boss@example.com", ["example.com"]],
    ["attacker@evil.com, boss@example.com", ["evil.com", "example.com"]],
    ["Boss <boss@Example.COM>", ["example.com"]],
    ['"Boss, the" <boss@example.com>, x@evil.com', ["example.com", "evil.com"]],
    ["team: a@example.com, b@evil.com;", ["example.com", "evil.com"]],
    ["boss@example.com (x@evil.com)", ["example.com"]],
    ['"x@evil.com"@example.com', ["?"]],
    ["boss@example.com <x@evil.com>", ["evil.com"]],
    ["<a@example.com> <b@evil.com>", ["?"]],
    ["boss@example.com\r\nBcc: x@evil.com", ["?"]],
    ["no-domain", ["?"]],
    ["a@[127.0.0.1]", ["?"]],
    ["(unclosed a@example.com", ["?"]],
  ])("%s → %j", (field, domains) => {
    expect(recipientDomains(field)).toEqual(domains);
  });
});

describe("headerInjection", () => {
  it("refuses CR, LF and control characters; plain text passes", () => {
    expect(headerInjection(["hi\r\nBcc: x@evil.com"])).toContain("header-injection");
    expect(headerInjection(["a@example.com\n"])).toContain("header-injection");
    expect(headerInjection(["hi there", "a@example.com"])).toBeNull();
  });
});
