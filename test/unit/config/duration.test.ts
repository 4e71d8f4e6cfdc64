import { expect } from 'chai';
import { formatGoDuration, parseGoDuration } from '../../../src/config/duration.js';

describe('config/duration', () => {
  describe('parseGoDuration (time.ParseDuration grammar, result in ms)', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['+0', 0],
      ['-0', 0],
      ['0s', 0],
      ['300ms', 300],
      ['30s', 30_000],
      ['5m', 300_000],
      ['15m', 900_000],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['1h30m', 5_400_000],
      ['1h30m0s', 5_400_000],
      ['1.5s', 1500],
      ['.5s', 500],
      ['5.s', 5000],
      ['1.001s', 1001],
      ['-1.5h', -5_400_000],
      ['+5m', 300_000],
      ['1000ns', 0.001],
      ['1us', 0.001],
      ['1\u00b5s', 0.001],
      ['1\u03bcs', 0.001],
      ['2ms500us', 2.5],
      ['100h', 360_000_000],
      ['1h1m1s1ms', 3_661_001],
    ];
    for (const [text, ms] of cases) {
      it(`${JSON.stringify(text)} -> ${ms} ms`, () => {
        expect(parseGoDuration(text)).to.equal(ms);
      });
    }

    const bad: [string, RegExp][] = [
      ['15', /missing unit in duration "15"/],
      ['5 m', /unknown unit " m" in duration "5 m"/],
      ['abc', /invalid duration "abc"/],
      ['', /invalid duration ""/],
      ['-', /invalid duration "-"/],
      ['.', /invalid duration "."/],
      ['.s', /invalid duration ".s"/],
      ['1x', /unknown unit "x" in duration "1x"/],
      ['5M', /unknown unit "M"/],
      [' 5m', /invalid duration " 5m"/],
      ['5m ', /unknown unit "m "/],
      ['1h-5m', /unknown unit "h-"/],
      ['3000000h', /invalid duration "3000000h"/],
    ];
    for (const [text, re] of bad) {
      it(`rejects ${JSON.stringify(text)} with a clear message`, () => {
        expect(() => parseGoDuration(text)).to.throw(Error, re);
        expect(() => parseGoDuration(text)).to.throw(/e\.g\. 300ms, 30s, 5m, 1h30m/);
      });
    }
  });

  describe('formatGoDuration (Duration.String())', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [300_000, '5m0s'],
      [900_000, '15m0s'],
      [5_400_000, '1h30m0s'],
      [30_000, '30s'],
      [1500, '1.5s'],
      [300, '300ms'],
      [1, '1ms'],
      [1.5, '1.5ms'],
      [0.001, '1\u00b5s'],
      [0.0015, '1.5\u00b5s'],
      [0.000001, '1ns'],
      [-1500, '-1.5s'],
      [3_661_001, '1h1m1.001s'],
      [360_000_000, '100h0m0s'],
      [2_000, '2s'],
      [60_000, '1m0s'],
    ];
    for (const [ms, text] of cases) {
      it(`${ms} ms -> ${text}`, () => {
        expect(formatGoDuration(ms)).to.equal(text);
      });
    }

    it('round-trips what it prints', () => {
      for (const ms of [0, 1, 999, 1000, 61_500, 3_600_000, 5_400_000, 86_400_000]) {
        expect(parseGoDuration(formatGoDuration(ms))).to.equal(ms);
      }
    });

    it('rejects a non-finite number', () => {
      expect(() => formatGoDuration(Number.NaN)).to.throw(/not a finite number/);
    });
  });
});
