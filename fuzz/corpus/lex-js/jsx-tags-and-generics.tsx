const A = () => <div /* it's */ onClick={() => eval(u)}>don't {eval(u)}</div>;
const A = () => <div // it's
  id="a">don't {eval(u)}</div>;
const A = () => <a title="C:\" onClick={() => eval(u)}>x</a>;
const A = () => <a title="x
y" onClick={() => eval(u)}>x</a>;
const A = () => <a title='it"s' onClick={() => eval(u)}>it's</a>;
const A = () => <p>{s.replace(/}/g, eval(u))}</p>;
const A = () => <p>don't {/"/.test(s) ? eval(u) : 1}</p>;
const A = () => <ul>{xs.map(x => { return <li>don't</li>; })} it's {eval(u)}</ul>;
const A = () => <Foo<string> a={1}>don't {eval(u)}</Foo>;
const f = <T,>(x: T) => <div>{eval(x)}</div>;
const A = () => <a b /* c */ = "x" c={eval(u)}>it's</a>;
const A = () => <Table<Row> columns={cols} render={(r) => eval(r)} />;
const A = () => <p render={() => <b>it's</b>}>don't {eval(u)}</p>;
const A = () => <Foo<(x: number) => void> f={eval(u)} />;
