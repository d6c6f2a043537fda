/**
 * Signing and verifying in-toto statements offline: a DSSE envelope inside a Sigstore bundle
 * (v0.3), built by `@sigstore/sign`'s DSSEBundleBuilder with a local P-256 signer and no
 * witnesses, verified by `@sigstore/verify` with trust material made only of pinned keys (no
 * transparency log, no certificate authority, no timestamp authority: thresholds 0).
 */
import { sign as cryptoSign } from "node:crypto";
import { type Bundle, bundleFromJSON, bundleToJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { Codes, ForgeError } from "../errors.js";
import type { TrustRoot } from "./keys.js";
import type { Statement } from "./statement.js";

export const INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export interface LocalSigner {
  privateKey: import("node:crypto").KeyObject;
  publicKeyPem: string;
  hint: string;
}

/** Signs `statement` (serialized once: the payload bytes are what is signed) → a bundle as JSON. */
export async function signStatement(statement: Statement, key: LocalSigner): Promise<object> {
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: async (data: Buffer) => ({
        signature: cryptoSign("sha256", data, key.privateKey),
        key: { $case: "publicKey", publicKey: key.publicKeyPem, hint: key.hint },
      }),
    },
    witnesses: [],
  });
  const bundle = await builder.create({
    data: Buffer.from(JSON.stringify(statement)),
    type: INTOTO_PAYLOAD_TYPE,
  });
  return bundleToJSON(bundle as Bundle) as object;
}

export interface Verified {
  statement: Statement;
  /** Hint of the trusted key that signed it. */
  signer: string;
  signerSource: string;
}

/**
 * Verifies a bundle against the pinned keys and returns the statement it carries. Throws
 * FORGE_SIGNATURE_INVALID naming why: unparseable, an unknown key, a bad signature, not in-toto.
 */
export function verifyBundle(json: unknown, trust: TrustRoot): Verified {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    throw invalid(`not a Sigstore bundle: ${(err as Error).message}`);
  }
  const vm = bundle.verificationMaterial.content;
  const hint = vm.$case === "publicKey" ? vm.publicKey.hint : null;
  if (hint === null)
    throw invalid("the bundle names no public key hint (certificate bundles are not trusted here)");
  const pinned = trust.get(hint);
  if (!pinned)
    throw invalid(
      `signed by key ${hint.slice(0, 16)}…, which is not among the trusted keys (lifecycle.trusted_keys)`,
    );
  const material = toTrustMaterial(
    { mediaType: "", certificateAuthorities: [], ctlogs: [], tlogs: [], timestampAuthorities: [] } as never,
    (h: string) => {
      const k = trust.get(h);
      if (!k) throw invalid(`unknown key ${h}`);
      return { publicKey: k.key, validFor: () => true };
    },
  );
  try {
    new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
      toSignedEntity(bundle),
    );
  } catch (err) {
    throw invalid(
      `signature does not verify with key ${hint.slice(0, 16)}… (${pinned.source}): ${(err as Error).message}`,
    );
  }
  if (bundle.content.$case !== "dsseEnvelope") throw invalid("the bundle holds no DSSE envelope");
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE)
    throw invalid(`payload type ${env.payloadType} is not in-toto`);
  let statement: Statement;
  try {
    statement = JSON.parse(env.payload.toString("utf8")) as Statement;
  } catch {
    throw invalid("the payload is not JSON");
  }
  if (statement._type !== "https://in-toto.io/Statement/v1")
    throw invalid(`_type ${statement._type} is not in-toto Statement v1`);
  return { statement, signer: hint, signerSource: pinned.source };
}

function invalid(msg: string): ForgeError {
  return new ForgeError(Codes.SIGNATURE_INVALID, msg);
}
