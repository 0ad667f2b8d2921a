export function Bio({ user }) {
  return (
    <div>
      {/* ruleid: js.dangerously-set-inner-html */}
      <div dangerouslySetInnerHTML={{__html: user.bio}} />
      {/* ok: js.dangerously-set-inner-html */}
      <div dangerouslySetInnerHTML={{__html: "<hr/>"}} />
    </div>
  );
}
