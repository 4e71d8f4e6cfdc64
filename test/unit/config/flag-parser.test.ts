import { expect } from 'chai';
import { FlagError, parseFlags, parseGoBool, usage, type FlagDefs } from '../../../src/config/flag-parser.js';

const DEFS = {
  name: { type: 'string', default: 'x', description: 'a string' },
  verbose: { type: 'bool', default: false, description: 'a bool' },
  on: { type: 'bool', default: true, description: 'a bool that defaults to true' },
  wait: { type: 'duration', default: 300_000, min: 1, description: 'a duration' },
  every: { type: 'duration', default: 900_000, min: 1000, allowZero: true, description: 'zero disables' },
  count: { type: 'int', default: 3, min: 0, max: 10, description: 'an int' },
  policy: { type: 'enum', values: ['IfNotPresent', 'Always'], default: 'IfNotPresent', description: 'an enum' },
  level: {
    type: 'enum',
    values: ['INFO', 'ERROR'],
    aliases: { '0': 'INFO', '2': 'ERROR' },
    default: 'ERROR',
    description: 'enum with aliases',
  },
  tag: { type: 'list', default: [], description: 'repeatable' },
  addr: {
    type: 'string',
    default: ':1',
    description: 'validated',
    validate: (v: string) => (v.includes(':') ? undefined : 'needs a colon'),
  },
} as const satisfies FlagDefs;

function errorOf(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(FlagError);
    return err as FlagError;
  }
  expect.fail('expected a FlagError');
}

describe('config/flag-parser (Go flag package semantics)', () => {
  it('returns every default when no flag is given', () => {
    const r = parseFlags(DEFS, []);
    expect(r.values).to.deep.equal({
      name: 'x',
      verbose: false,
      on: true,
      wait: 300_000,
      every: 900_000,
      count: 3,
      policy: 'IfNotPresent',
      level: 'ERROR',
      tag: [],
      addr: ':1',
    });
    expect(r.help).to.equal(false);
    expect([...r.set]).to.deep.equal([]);
    expect(r.args).to.deep.equal([]);
  });

  describe('accepts every spelling of a valued flag', () => {
    for (const argv of [['-name=v'], ['--name=v'], ['-name', 'v'], ['--name', 'v']]) {
      it(argv.join(' '), () => {
        const r = parseFlags(DEFS, argv);
        expect(r.values.name).to.equal('v');
        expect([...r.set]).to.deep.equal(['name']);
      });
    }
    it('an empty value with "="', () => {
      expect(parseFlags(DEFS, ['--name=']).values.name).to.equal('');
    });
    it('a value containing "=" and one starting with "-" after a space', () => {
      expect(parseFlags(DEFS, ['--name=a=b']).values.name).to.equal('a=b');
      expect(parseFlags(DEFS, ['--name', '-dash']).values.name).to.equal('-dash');
    });
    it('the last occurrence wins', () => {
      expect(parseFlags(DEFS, ['-name=a', '-name=b']).values.name).to.equal('b');
    });
  });

  describe('bool flags', () => {
    it('bare -flag and --flag mean true', () => {
      expect(parseFlags(DEFS, ['-verbose']).values.verbose).to.equal(true);
      expect(parseFlags(DEFS, ['--verbose']).values.verbose).to.equal(true);
    });
    it('-flag=false turns off a default-true flag', () => {
      expect(parseFlags(DEFS, ['--on=false']).values.on).to.equal(false);
      expect(parseFlags(DEFS, ['-on=0']).values.on).to.equal(false);
    });
    it('every strconv.ParseBool spelling', () => {
      for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).to.equal(true);
      for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).to.equal(false);
      expect(parseGoBool('yes')).to.equal(undefined);
      expect(parseGoBool('tRuE')).to.equal(undefined);
    });
    it('a bool never consumes the next argument (Go: "-flag false" is -flag then an argument)', () => {
      const r = parseFlags(DEFS, ['-verbose', 'false']);
      expect(r.values.verbose).to.equal(true);
      expect(r.args).to.deep.equal(['false']);
    });
    it('a bad bool value names the flag, in Go wording', () => {
      const e = errorOf(() => parseFlags(DEFS, ['--verbose=yes']));
      expect(e.message).to.match(/^invalid boolean value "yes" for -verbose: /);
      expect(e.flag).to.equal('verbose');
    });
  });

  describe('durations', () => {
    it('parse Go text into ms', () => {
      expect(parseFlags(DEFS, ['--wait=1h30m']).values.wait).to.equal(5_400_000);
      expect(parseFlags(DEFS, ['-wait', '30s']).values.wait).to.equal(30_000);
    });
    it('reject a number without unit, naming the flag and the reason', () => {
      const e = errorOf(() => parseFlags(DEFS, ['--wait=15']));
      expect(e.message).to.match(/^invalid value "15" for flag -wait: time: missing unit in duration "15"/);
      expect(e.flag).to.equal('wait');
    });
    it('enforce the minimum, with 0 allowed where it disables', () => {
      expect(parseFlags(DEFS, ['--every=0s']).values.every).to.equal(0);
      expect(parseFlags(DEFS, ['--every=0']).values.every).to.equal(0);
      expect(errorOf(() => parseFlags(DEFS, ['--every=500ms'])).message).to.equal(
        'invalid value "500ms" for flag -every: must be at least 1s (or 0s)',
      );
      expect(errorOf(() => parseFlags(DEFS, ['--wait=0s'])).message).to.equal(
        'invalid value "0s" for flag -wait: must be at least 1ms',
      );
      expect(errorOf(() => parseFlags(DEFS, ['--wait=-5m'])).flag).to.equal('wait');
    });
  });

  describe('ints', () => {
    it('parse decimal, signed, trimmed', () => {
      expect(parseFlags(DEFS, ['--count=7']).values.count).to.equal(7);
      expect(parseFlags(DEFS, ['-count', '+0']).values.count).to.equal(0);
      expect(parseFlags(DEFS, ['-count', ' 10 ']).values.count).to.equal(10);
    });
    it('reject non-integers and out-of-range values, naming the flag', () => {
      expect(errorOf(() => parseFlags(DEFS, ['--count=1.5'])).message).to.match(/^invalid value "1.5" for flag -count: parse error/);
      expect(errorOf(() => parseFlags(DEFS, ['--count=abc'])).message).to.match(/^invalid value "abc" for flag -count: parse error/);
      expect(errorOf(() => parseFlags(DEFS, ['--count='])).message).to.match(/^invalid value "" for flag -count/);
      expect(errorOf(() => parseFlags(DEFS, ['--count=-1'])).message).to.equal('invalid value "-1" for flag -count: must be >= 0');
      expect(errorOf(() => parseFlags(DEFS, ['--count=11'])).message).to.equal('invalid value "11" for flag -count: must be <= 10');
      expect(errorOf(() => parseFlags(DEFS, ['--count=99999999999999999999'])).message).to.match(/value out of range/);
    });
  });

  describe('enums', () => {
    it('match case-insensitively after trimming and normalise the spelling', () => {
      expect(parseFlags(DEFS, ['--policy=always']).values.policy).to.equal('Always');
      expect(parseFlags(DEFS, ['--policy', ' ALWAYS ']).values.policy).to.equal('Always');
      expect(parseFlags(DEFS, ['--policy=ifnotpresent']).values.policy).to.equal('IfNotPresent');
    });
    it('accept aliases', () => {
      expect(parseFlags(DEFS, ['--level=0']).values.level).to.equal('INFO');
      expect(parseFlags(DEFS, ['--level=info']).values.level).to.equal('INFO');
    });
    it('reject other values, listing the allowed ones', () => {
      const e = errorOf(() => parseFlags(DEFS, ['--policy=Never']));
      expect(e.message).to.equal('invalid value "Never" for flag -policy: must be one of IfNotPresent, Always');
      expect(e.flag).to.equal('policy');
    });
  });

  describe('lists', () => {
    it('collect every occurrence, in order', () => {
      expect(parseFlags(DEFS, ['--tag=a', '-tag', 'b', '--tag=c']).values.tag).to.deep.equal(['a', 'b', 'c']);
    });
    it('never share the default array between parses', () => {
      parseFlags(DEFS, ['--tag=a']);
      expect(parseFlags(DEFS, []).values.tag).to.deep.equal([]);
    });
  });

  it('string validators reject with the reason and the flag', () => {
    const e = errorOf(() => parseFlags(DEFS, ['--addr=nocolon']));
    expect(e.message).to.equal('invalid value "nocolon" for flag -addr: needs a colon');
  });

  describe('syntax', () => {
    it('unknown flag, in Go wording', () => {
      const e = errorOf(() => parseFlags(DEFS, ['--nope=1']));
      expect(e.message).to.equal('flag provided but not defined: -nope');
      expect(e.flag).to.equal('nope');
    });
    it('a missing argument names the flag', () => {
      const e = errorOf(() => parseFlags(DEFS, ['--name']));
      expect(e.message).to.equal('flag needs an argument: -name');
      expect(e.flag).to.equal('name');
    });
    it('bad flag syntax', () => {
      expect(errorOf(() => parseFlags(DEFS, ['---name=x'])).message).to.equal('bad flag syntax: ---name=x');
      expect(errorOf(() => parseFlags(DEFS, ['-=x'])).message).to.equal('bad flag syntax: -=x');
    });
    it('"--" ends the flags', () => {
      const r = parseFlags(DEFS, ['-verbose', '--', '--name=v', 'x']);
      expect(r.values.name).to.equal('x');
      expect(r.args).to.deep.equal(['--name=v', 'x']);
    });
    it('the first non-flag argument ends the flags; "-" alone is an argument', () => {
      expect(parseFlags(DEFS, ['pos', '--name=v']).args).to.deep.equal(['pos', '--name=v']);
      expect(parseFlags(DEFS, ['-', '--name=v']).args).to.deep.equal(['-', '--name=v']);
    });
    for (const h of ['-h', '--h', '-help', '--help']) {
      it(`${h} requests help`, () => {
        const r = parseFlags(DEFS, ['--name=v', h]);
        expect(r.help).to.equal(true);
      });
    }
    it('does not treat inherited object keys as flags', () => {
      expect(errorOf(() => parseFlags(DEFS, ['--constructor=x'])).message).to.equal(
        'flag provided but not defined: -constructor',
      );
    });
  });

  describe('usage', () => {
    const text = usage(DEFS, { program: 'prog' });
    it('starts with the program line', () => {
      expect(text.split('\n')[0]).to.equal('Usage of prog:');
    });
    it('lists every flag with its type and default, sorted, durations Go-formatted', () => {
      const heads = text.split('\n').filter((l) => l.startsWith('  -'));
      expect(heads).to.deep.equal([
        '  -addr string',
        '  -count int',
        '  -every duration',
        '  -level string',
        '  -name string',
        '  -on bool',
        '  -policy string',
        '  -tag value',
        '  -verbose bool',
        '  -wait duration',
      ]);
      expect(text).to.include('a duration (default 5m0s)');
      expect(text).to.include('zero disables (default 15m0s)');
      expect(text).to.include('a string (default "x")');
      expect(text).to.include('a bool (default false)');
      expect(text).to.include('an int (default 3)');
      expect(text).to.include('repeatable\n    \tRepeat the flag to give several values. (default [])');
      expect(text).to.include('One of: IfNotPresent, Always (case-insensitive). (default "IfNotPresent")');
    });
  });
});
