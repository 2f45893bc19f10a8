/**
 * The membership request (client/membership-request.ts): the one-loop check of the usual pixels body
 * accepts exactly what the zod schema accepts, and the three forms of one record quantize alike.
 */
import { expect } from "chai";
import { quantizePixel } from "../../core/data/quantize";
import { membershipRequest } from "../../client/api";
import { RecordError, parseMembershipRequest, quantizeRequest } from "../../client/membership-request";
import { rng } from "../helpers/random";

describe("relayer: the membership request", () => {
  const r = rng("membership-request");

  function randomBody(): unknown {
    const pixels: unknown[] = Array.from({ length: r.between(0, 40) }, () => r.int(256));
    // Mostly one defect at a random place, sometimes none.
    const defects: (() => void)[] = [
      () => undefined,
      () => undefined,
      () => pixels.length && (pixels[r.int(pixels.length)] = r.pick([256, -1, 1.5, "3", null, true, Number.NaN, 1e300])),
      () => pixels.push(...Array.from({ length: (1 << 16) + 1 - pixels.length }, () => 0)),
    ];
    r.pick(defects)();
    const body: Record<string, unknown> = { pixels };
    if (r.int(6) === 0) body.features = [0.5];
    if (r.int(8) === 0) body.extra = 1;
    if (r.int(10) === 0) return [pixels];
    return body;
  }

  it("accepts exactly what the schema accepts, with the same data (random bodies)", () => {
    for (let i = 0; i < 400; i++) {
      const body = randomBody();
      const expected = membershipRequest.safeParse(body);
      let got: unknown;
      try {
        got = parseMembershipRequest(body);
      } catch (e) {
        expect(e, JSON.stringify(body).slice(0, 200)).to.be.instanceOf(RecordError);
        expect((e as RecordError).code).to.equal("bad_record");
        expect(expected.success, JSON.stringify(body).slice(0, 200)).to.equal(false);
        continue;
      }
      expect(expected.success, JSON.stringify(body).slice(0, 200)).to.equal(true);
      expect(got).to.deep.equal(expected.data);
    }
  });

  it("quantizes pixels, base64 bytes and real features of one record alike, and names bad values", () => {
    const bytes = Uint8Array.from({ length: 784 }, () => r.int(256));
    const fromPixels = quantizeRequest({ pixels: Array.from(bytes) }, 784, 16);
    expect(Array.from(fromPixels)).to.deep.equal(Array.from(bytes, (b) => quantizePixel(b, 16)));
    expect(quantizeRequest({ image: Buffer.from(bytes).toString("base64") }, 784, 16)).to.deep.equal(fromPixels);
    expect(quantizeRequest({ features: Array.from(bytes, (b) => b / 255) }, 784, 16)).to.deep.equal(fromPixels);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as RecordError).code;
      }
      return "accepted";
    };
    expect(code(() => quantizeRequest({ pixels: [1, 2] }, 784, 16))).to.equal("wrong_record_size");
    expect(code(() => quantizeRequest({ pixels: [300] }, 1, 16))).to.equal("bad_record");
    expect(code(() => quantizeRequest({ image: "a" }, 1, 16))).to.equal("bad_record");
    expect(code(() => quantizeRequest({ features: [2 ** 20] }, 1, 16))).to.equal("value_out_of_range");
  });
});
